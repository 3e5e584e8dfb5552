-- 0780: updated_at is maintained on every table that has one (seed 004 #38, #39). Tables of 0100-0399 attach
-- app_private.tg__set_updated_at() themselves; this attaches it, as <table>_set_updated_at, to every table
-- of app, app_private, ops and audit that has an updated_at column and no such trigger yet (tables added
-- by the security and behaviour bundles, e.g. app_private.key_rotations). Partitions inherit it from
-- their parent. Re-runnable; test/behaviour/triggers.test.ts proves no table is left out.
-- Serves: seed 004 #38, #39.

DO $$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT n.nspname, c.relname
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = 'updated_at' AND NOT a.attisdropped
    WHERE n.nspname IN ('app', 'app_private', 'ops', 'audit')
      AND c.relkind IN ('r', 'p') AND NOT c.relispartition
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t
                      WHERE t.tgrelid = c.oid AND t.tgfoid = 'app_private.tg__set_updated_at()'::regprocedure)
    ORDER BY 1, 2
  LOOP
    EXECUTE format('CREATE OR REPLACE TRIGGER %I BEFORE UPDATE ON %I.%I FOR EACH ROW EXECUTE FUNCTION app_private.tg__set_updated_at()',
                   r.relname || '_set_updated_at', r.nspname, r.relname);
  END LOOP;
END
$$;
