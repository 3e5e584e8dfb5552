-- ops.monthly_partition_name: the current definition of this function.
-- Serves: seed 004 #30 (partitioned logs), #33 (retention plan); issue 14 (pg_partman 4.7 and 5.x).
-- pgkit:after 0700_partitions_partman.sql

-- The name of the monthly partition of p_parent that holds p_at, as pg_partman names it: the one place that
-- knows the naming differs by partman major (4.7: <table>_pYYYY_MM; 5.x: <table>_pYYYYMMDD). A table partman
-- does not manage (pg_partman not installed) keeps the schema's static naming of 0100 (<table>_pYYYY_MM).
-- Callers that create a missing month by hand (the seeder's past months) or look one up (tests) use it, so
-- partman's maintenance and retention recognise those partitions as their own.
CREATE OR REPLACE FUNCTION ops.monthly_partition_name(p_parent text, p_at timestamptz)
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_schema text;
  v_name   text;
BEGIN
  SELECT n.nspname INTO v_schema FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
  WHERE e.extname = 'pg_partman';
  IF v_schema IS NOT NULL THEN
    EXECUTE pg_catalog.format(
      'SELECT s.partition_table FROM %1$I.part_config c, %1$I.show_partition_name(c.parent_table, $2::text) s
        WHERE c.parent_table = $1', v_schema)
      INTO v_name USING p_parent, p_at;
    IF v_name IS NOT NULL THEN RETURN v_name; END IF;
  END IF;
  RETURN split_part(p_parent, '.', 2) || '_p' || pg_catalog.to_char(p_at AT TIME ZONE 'UTC', 'YYYY_MM');
END
$$;
REVOKE ALL ON FUNCTION ops.monthly_partition_name(text, timestamptz) FROM PUBLIC;
