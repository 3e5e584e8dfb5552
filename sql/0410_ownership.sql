-- 0410: who owns what. Every object in app, app_private, audit and ops is owned by pgkit_owner (NOLOGIN,
-- never used by the application), so a SECURITY DEFINER function runs as pgkit_owner, never as the
-- superuser or the RDS master user that happened to apply the file.
--   * The migration user (superuser locally, the RDS master user — not a superuser — in AWS) becomes a
--     member of pgkit_owner, which is what ALTER ... OWNER TO requires of a non-superuser; pgkit_migrator
--     is a member too.
--   * Existing objects are handed over here; objects created by later files (0600+, pg_partman's new
--     partitions) are handed over by the event trigger pgkit_assign_owner at the end of the creating
--     command. The same trigger turns row-level security ON and FORCED for every new table with an
--     organization_id or user_id column, with only the owner's policy: a tenant table somebody forgets
--     to write policies for is closed to the application, not open.
--   * Event triggers need a superuser (RDS: rds_superuser, which the master user has).
--   * pgbouncer.user_lookup stays with its creator: it must read pg_shadow (docs/security.md, RDS notes).
-- Serves: seed 000 P1, seed 003 §3.4 (roles for access levels), seed 004 #26 (definer functions run as a
--         least-privileged owner).

DO $$
BEGIN
  IF NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user)
     AND NOT pg_catalog.pg_has_role(current_user, 'pgkit_owner', 'MEMBER') THEN
    EXECUTE format('GRANT pgkit_owner TO %I', current_user);
  END IF;
END
$$;
GRANT pgkit_owner TO pgkit_migrator;

ALTER SCHEMA app OWNER TO pgkit_owner;
ALTER SCHEMA app_private OWNER TO pgkit_owner;
ALTER SCHEMA audit OWNER TO pgkit_owner;
ALTER SCHEMA ops OWNER TO pgkit_owner;

-- Hands every object of the four schemas to pgkit_owner; returns how many changed owner. Re-runnable.
CREATE OR REPLACE FUNCTION app_private.assign_owner()
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  r record;
  v_owner oid := (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = 'pgkit_owner');
  v_n integer := 0;
BEGIN
  FOR r IN
    SELECT c.oid::regclass::text AS ident, c.relkind
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname IN ('app', 'app_private', 'audit', 'ops')
      AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND c.relowner <> v_owner
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
      -- A sequence owned by a table column (serial: deptype 'a', identity: 'i') cannot change owner by itself;
      -- ALTER TABLE ... OWNER moves it with its table.
      AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                                           WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid
                                             AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i')))
  LOOP
    EXECUTE format('ALTER %s %s OWNER TO pgkit_owner',
                   CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
                                  WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, r.ident);
    v_n := v_n + 1;
  END LOOP;
  FOR r IN
    SELECT p.oid::regprocedure::text AS ident, p.prokind
    FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname IN ('app', 'app_private', 'audit', 'ops') AND p.proowner <> v_owner
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
  LOOP
    EXECUTE format('ALTER %s %s OWNER TO pgkit_owner',
                   CASE r.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END, r.ident);
    v_n := v_n + 1;
  END LOOP;
  FOR r IN
    SELECT t.oid::regtype::text AS ident
    FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname IN ('app', 'app_private', 'audit', 'ops') AND t.typowner <> v_owner
      AND t.typtype IN ('e', 'd', 'c', 'r') AND t.typelem = 0
      AND (t.typrelid = 0 OR (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid) = 'c')
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e')
  LOOP
    EXECUTE format('ALTER TYPE %s OWNER TO pgkit_owner', r.ident);
    v_n := v_n + 1;
  END LOOP;
  RETURN v_n;
END
$$;
REVOKE ALL ON FUNCTION app_private.assign_owner() FROM PUBLIC;

-- Closes a table holding tenant or user data: RLS enabled and forced, plus the owner's policy (so the
-- SECURITY DEFINER functions owned by pgkit_owner keep working). Re-runnable.
CREATE OR REPLACE FUNCTION app_private.close_tenant_table(p_table regclass)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_name text := (SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = p_table);
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', p_table);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', p_table);
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy WHERE polrelid = p_table AND polname = v_name || '_owner_all') THEN
    EXECUTE format('CREATE POLICY %I ON %s AS PERMISSIVE FOR ALL TO pgkit_owner USING (true) WITH CHECK (true)',
                   v_name || '_owner_all', p_table);
  END IF;
END
$$;
REVOKE ALL ON FUNCTION app_private.close_tenant_table(regclass) FROM PUBLIC;

CREATE OR REPLACE FUNCTION app_private.evt_assign_owner()
RETURNS event_trigger
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT c.objid, c.object_type, c.object_identity
    FROM pg_catalog.pg_event_trigger_ddl_commands() c
    WHERE c.schema_name IN ('app', 'app_private', 'audit', 'ops') AND NOT c.in_extension
  LOOP
    CASE r.object_type
      WHEN 'table' THEN
        IF (SELECT relowner FROM pg_catalog.pg_class WHERE oid = r.objid) <> 'pgkit_owner'::regrole THEN
          EXECUTE format('ALTER TABLE %s OWNER TO pgkit_owner', r.object_identity);
        END IF;
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                   WHERE a.attrelid = r.objid AND a.attname IN ('organization_id', 'user_id') AND NOT a.attisdropped) THEN
          PERFORM app_private.close_tenant_table(r.objid::regclass);
        END IF;
      WHEN 'view' THEN EXECUTE format('ALTER VIEW %s OWNER TO pgkit_owner', r.object_identity);
      WHEN 'materialized view' THEN EXECUTE format('ALTER MATERIALIZED VIEW %s OWNER TO pgkit_owner', r.object_identity);
      WHEN 'sequence' THEN
        -- A serial/identity column's sequence is linked to its table ("cannot change owner of sequence ...
        -- linked to table"): the table's ALTER TABLE ... OWNER above/below moves it. Only free-standing ones here.
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                       WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = r.objid
                         AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i'))
           AND (SELECT relowner FROM pg_catalog.pg_class WHERE oid = r.objid) <> 'pgkit_owner'::regrole THEN
          EXECUTE format('ALTER SEQUENCE %s OWNER TO pgkit_owner', r.object_identity);
        END IF;
      WHEN 'function' THEN EXECUTE format('ALTER FUNCTION %s OWNER TO pgkit_owner', r.object_identity);
      WHEN 'procedure' THEN EXECUTE format('ALTER PROCEDURE %s OWNER TO pgkit_owner', r.object_identity);
      WHEN 'type' THEN
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_type t WHERE t.oid = r.objid AND t.typtype IN ('e', 'd', 'c', 'r')
                   AND (t.typrelid = 0 OR (SELECT relkind FROM pg_catalog.pg_class WHERE oid = t.typrelid) = 'c')) THEN
          EXECUTE format('ALTER TYPE %s OWNER TO pgkit_owner', r.object_identity);
        END IF;
      ELSE NULL;
    END CASE;
  END LOOP;
END
$$;
REVOKE ALL ON FUNCTION app_private.evt_assign_owner() FROM PUBLIC;

DROP EVENT TRIGGER IF EXISTS pgkit_assign_owner;
CREATE EVENT TRIGGER pgkit_assign_owner ON ddl_command_end
  WHEN TAG IN ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO', 'CREATE VIEW', 'CREATE MATERIALIZED VIEW',
               'CREATE SEQUENCE', 'CREATE FUNCTION', 'CREATE PROCEDURE', 'CREATE TYPE')
  EXECUTE FUNCTION app_private.evt_assign_owner();

SELECT app_private.assign_owner();
