-- 1004: the database chooses the ids of the application's inserts (issue 16 #5, "database-chosen ids for app
--   inserts"). An app session that could INSERT a row with an id of its choosing (or ON CONFLICT (id) DO NOTHING)
--   learnt whether another tenant's row with that id exists: a unique violation, or zero rows, where a random id
--   gave one. The app and worker logins (pgkit_app, which pgkit_worker belongs to) now hold INSERT on every column
--   of those tables except `id`: the column default (gen_random_uuid(), or the identity of the partitioned
--   ledgers) always chooses it, and naming `id` is refused with the same "permission denied" whatever exists.
--   Row-level security's WITH CHECK runs before any unique index is probed, so the other unique keys of these
--   tables (all scoped by a tenant-checked parent: episode, session, project, source) tell nothing about other
--   tenants. The app's UPDATE grants never included `id`.
--   Done from the catalogue, so it covers every table the app can insert into (14 today); the owner, the
--   maintenance role, the seeder and the tests (admin or superuser) still choose ids.
-- Serves: seed 000 P1 (tenant isolation; "validate RLS policies can't be bypassed"), seed 004 #27 (grants list
--         columns where writes must be limited).

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

DO $$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT c.oid::regclass AS rel,
           pg_catalog.has_table_privilege('pgkit_app', c.oid, 'INSERT') AS table_level,
           (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum)
              FROM pg_catalog.pg_attribute a
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> 'id'
               AND pg_catalog.has_column_privilege('pgkit_app', c.oid, a.attnum, 'INSERT')) AS columns
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_catalog.pg_attribute id ON id.attrelid = c.oid AND id.attname = 'id' AND NOT id.attisdropped
    WHERE n.nspname IN ('app', 'ops') AND c.relkind IN ('r', 'p') AND NOT c.relispartition
      -- By attnum, not name: the planner may evaluate this before the join on id, for tables that have none.
      AND pg_catalog.has_column_privilege('pgkit_app', c.oid, id.attnum, 'INSERT')
  LOOP
    IF r.table_level THEN
      -- A table-level grant covers every column: replace it by the column list without id.
      EXECUTE pg_catalog.format('REVOKE INSERT ON %s FROM pgkit_app', r.rel);
      EXECUTE pg_catalog.format('GRANT INSERT (%s) ON %s TO pgkit_app', r.columns, r.rel);
    ELSE
      EXECUTE pg_catalog.format('REVOKE INSERT (id) ON %s FROM pgkit_app', r.rel);
    END IF;
  END LOOP;
END
$$;
