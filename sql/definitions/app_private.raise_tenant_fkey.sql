-- app_private.raise_tenant_fkey: the current definition of this function.
-- First created by sql/0420_tenant_consistency.sql.
-- Serves: seed 004 #18 (denormalized user_id kept by trigger), seed 000 P1, seed 003 §5.1.
-- pgkit:after 0410_ownership.sql

-- The one error of both layers: 23503 "<table>.<fk> not found in this organization", constraint
-- <table>_<fk>_tenant_fkey. On a partition (token_usage, engagement_events) the trigger is the parent's clone:
-- the error is named after the partitioned table, so the constraint name is the same every month.
CREATE OR REPLACE FUNCTION app_private.raise_tenant_fkey(p_relid oid, p_fk text)
RETURNS void
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_rel    oid := coalesce(pg_catalog.pg_partition_root(p_relid), p_relid);
  v_table  text;
  v_schema text;
BEGIN
  SELECT c.relname, n.nspname INTO v_table, v_schema
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE c.oid = v_rel;
  RAISE EXCEPTION '%.% not found in this organization', v_table, p_fk
    USING ERRCODE = 'foreign_key_violation', CONSTRAINT = v_table || '_' || p_fk || '_tenant_fkey',
          SCHEMA = v_schema, TABLE = v_table;
END
$$;
REVOKE ALL ON FUNCTION app_private.raise_tenant_fkey(oid, text) FROM PUBLIC;
