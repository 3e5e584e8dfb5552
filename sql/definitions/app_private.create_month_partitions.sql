-- app_private.create_month_partitions: the current definition of this function.
-- First created by sql/0100_table_helpers.sql.
-- Serves: seed 004 #30, #38, #39; seed 001 (timezone-aware scheduling).
-- pgkit:after 0100_table_helpers.sql

-- Creates <parent>_default and one partition per month from the current month to p_months_ahead
-- months ahead, skipping any that exist (by pg_partman's name for the month once partman manages the table). Bounds are computed in UTC: a month starts at
-- YYYY-MM-01 00:00:00+00. Re-runnable.
CREATE OR REPLACE FUNCTION app_private.create_month_partitions(p_parent regclass, p_months_ahead integer DEFAULT 2)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
AS $$
DECLARE
  v_schema text;
  v_table  text;
  v_start  timestamptz;
  v_end    timestamptz;
  v_name   text;
  v_made   integer := 0;
  v_partman_names constant boolean := to_regprocedure('ops.monthly_partition_name(text,timestamptz)') IS NOT NULL;
BEGIN
  SELECT n.nspname, c.relname INTO v_schema, v_table
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE c.oid = p_parent;

  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_partitioned_table WHERE partrelid = p_parent) THEN
    RAISE EXCEPTION 'create_month_partitions: % is not partitioned', p_parent;
  END IF;

  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
                 WHERE i.inhparent = p_parent AND c.relname = v_table || '_default') THEN
    EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.%I DEFAULT', v_schema, v_table || '_default', v_schema, v_table);
    v_made := v_made + 1;
  END IF;

  FOR i IN 0 .. p_months_ahead LOOP
    v_start := (date_trunc('month', pg_catalog.timezone('UTC', pg_catalog.now())) + make_interval(months => i)) AT TIME ZONE 'UTC';
    v_end   := (date_trunc('month', pg_catalog.timezone('UTC', pg_catalog.now())) + make_interval(months => i + 1)) AT TIME ZONE 'UTC';
    -- pg_partman's name for the month once it manages the table (4.7 and 5.x differ; ops.monthly_partition_name,
    -- created later in the bundle by 0700), the schema's own _pYYYY_MM before.
    IF v_partman_names THEN
      EXECUTE 'SELECT ops.monthly_partition_name($1, $2)' INTO v_name USING v_schema || '.' || v_table, v_start;
    ELSE
      v_name := v_table || '_p' || to_char(v_start AT TIME ZONE 'UTC', 'YYYY_MM');
    END IF;
    IF to_regclass(format('%I.%I', v_schema, v_name)) IS NULL THEN
      EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.%I FOR VALUES FROM (%L) TO (%L)',
                     v_schema, v_name, v_schema, v_table, v_start, v_end);
      v_made := v_made + 1;
    END IF;
  END LOOP;
  RETURN v_made;
END
$$;
COMMENT ON FUNCTION app_private.create_month_partitions(regclass, integer) IS
  'Creates the DEFAULT partition and monthly partitions (UTC bounds) from this month to p_months_ahead ahead; pg_partman naming.';
