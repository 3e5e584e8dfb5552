-- ops.partman_major_version: the current definition of this function.
-- First created by sql/0700_partitions_partman.sql.
-- Serves: seed 004 #30 (partitioned logs, near-instant cleanup), #33 (retention plan), seed 000 P4 scale.
-- pgkit:after 0650_completion_counters.sql

-- Installed pg_partman major version (4 or 5), NULL when not installed.
CREATE OR REPLACE FUNCTION ops.partman_major_version()
RETURNS integer
LANGUAGE sql
STABLE
AS $$
  SELECT split_part(e.extversion, '.', 1)::integer FROM pg_catalog.pg_extension e WHERE e.extname = 'pg_partman'
$$;
