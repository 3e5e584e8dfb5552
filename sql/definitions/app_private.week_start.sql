-- app_private.week_start: the current definition of this function.
-- First created by sql/0650_completion_counters.sql.
-- Serves: seed 004 #2, #9, #10, #31, #32; seed 000 P4.
-- pgkit:after 0650_completion_counters.sql

CREATE OR REPLACE FUNCTION app_private.week_start(p_at timestamptz)
RETURNS timestamptz
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $$
  SELECT pg_catalog.timezone('UTC', date_trunc('week', pg_catalog.timezone('UTC', p_at)))
$$;
COMMENT ON FUNCTION app_private.week_start(timestamptz) IS 'Monday 00:00 UTC of the ISO week containing p_at.';
