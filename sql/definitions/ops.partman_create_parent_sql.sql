-- ops.partman_create_parent_sql: the current definition of this function.
-- First created by sql/0700_partitions_partman.sql.
-- Serves: seed 004 #30 (partitioned logs, near-instant cleanup), #33 (retention plan), seed 000 P4 scale.
-- pgkit:after 0650_completion_counters.sql

-- The create_parent call for monthly partitions of p_parent, with named arguments, for pg_partman p_major.
CREATE OR REPLACE FUNCTION ops.partman_create_parent_sql(
  p_parent text, p_control text, p_premake integer, p_start timestamptz, p_major integer, p_schema text DEFAULT 'partman')
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
AS $$
DECLARE
  v_common text := pg_catalog.format(
    'p_parent_table := %L, p_control := %L, p_interval := %L, p_premake := %s, p_start_partition := %L',
    p_parent, p_control, '1 month', p_premake, pg_catalog.to_char(p_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS"+00"'));
BEGIN
  IF p_major = 4 THEN
    RETURN pg_catalog.format('SELECT %I.create_parent(%s, p_type := %L)', p_schema, v_common, 'native');
  ELSIF p_major = 5 THEN
    RETURN pg_catalog.format('SELECT %I.create_parent(%s, p_type := %L, p_default_table := true)', p_schema, v_common, 'range');
  END IF;
  RAISE EXCEPTION 'pg_partman % is not supported (4.x and 5.x are)', p_major USING ERRCODE = 'feature_not_supported';
END
$$;
