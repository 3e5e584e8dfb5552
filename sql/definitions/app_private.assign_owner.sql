-- app_private.assign_owner: the current definition of this function.
-- First created by sql/0410_ownership.sql.
-- Serves: seed 000 P1, seed 003 §3.4 (roles for access levels), seed 004 #26 (definer functions run as a
--         least-privileged owner).
-- pgkit:after 0400_security_context.sql

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
