-- app_private.ensure_service_role_policies(table): the analytics and job roles' policies on a table under
-- row-level security in app or ops (pgkit_readonly may read every row, pgkit_maintenance may do anything), or on
-- every such table when called without one. Creates only what is missing; returns how many it created.
-- sql/0450 wrote these policies with a loop that ran once, before sql/0630 created ops.rate_limits, which so
-- had none (issue 16 #10: fail-closed for the jobs). Now the event trigger of sql/0410 calls this for every
-- table it closes, so tables created later get them too, and sql/0870 fills the gaps of databases built before.
-- Serves: seed 000 P1 (database-level security), seed 003 §3.4 (roles for access levels).
-- pgkit:after 0400_security_context.sql

CREATE OR REPLACE FUNCTION app_private.ensure_service_role_policies(p_table regclass DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  r record;
  v_n integer := 0;
BEGIN
  FOR r IN
    SELECT c.oid, c.oid::regclass AS rel, c.relname
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname IN ('app', 'ops') AND c.relkind IN ('r', 'p') AND c.relrowsecurity AND NOT c.relispartition
      AND (p_table IS NULL OR c.oid = p_table)
  LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy p WHERE p.polrelid = r.oid AND p.polname = r.relname || '_readonly_select') THEN
      EXECUTE format('CREATE POLICY %I ON %s AS PERMISSIVE FOR SELECT TO pgkit_readonly USING (true)', r.relname || '_readonly_select', r.rel);
      v_n := v_n + 1;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy p WHERE p.polrelid = r.oid AND p.polname = r.relname || '_maintenance_all') THEN
      EXECUTE format('CREATE POLICY %I ON %s AS PERMISSIVE FOR ALL TO pgkit_maintenance USING (true) WITH CHECK (true)', r.relname || '_maintenance_all', r.rel);
      v_n := v_n + 1;
    END IF;
  END LOOP;
  RETURN v_n;
END
$$;
REVOKE ALL ON FUNCTION app_private.ensure_service_role_policies(regclass) FROM PUBLIC;
