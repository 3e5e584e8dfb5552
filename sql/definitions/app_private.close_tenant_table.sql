-- app_private.close_tenant_table: the current definition of this function.
-- First created by sql/0410_ownership.sql.
-- Serves: seed 000 P1, seed 003 §3.4 (roles for access levels), seed 004 #26 (definer functions run as a
--         least-privileged owner).
-- pgkit:after 0400_security_context.sql

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
