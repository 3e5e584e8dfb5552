-- ops.job_end: the current definition of this function.
-- First created by sql/0600_behaviour_foundation.sql.
-- Serves: seed 004 #32, #45 (job logging), #38/#39 (updated_at everywhere), seed 004 #29.
-- pgkit:after 0600_behaviour_foundation.sql

-- Ends a job run: logs job_completed with rows affected and whatever the job adds (time window, ids).
CREATE OR REPLACE FUNCTION ops.job_end(p_job_id uuid, p_job text, p_rows bigint, p_started timestamptz, p_details jsonb DEFAULT '{}')
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_result jsonb;
BEGIN
  v_result := pg_catalog.jsonb_build_object(
      'job_id', p_job_id, 'job', p_job, 'status', 'completed', 'rows_affected', p_rows,
      'started_at', p_started, 'finished_at', pg_catalog.clock_timestamp(),
      'duration_ms', round(extract(epoch FROM pg_catalog.clock_timestamp() - p_started) * 1000, 1))
    || p_details;
  INSERT INTO ops.logs (level, event_type, message, metadata)
  VALUES ('info', 'job_completed', p_job || ' completed: ' || p_rows || ' row(s) affected', v_result);
  RETURN v_result;
END
$$;
REVOKE ALL ON FUNCTION ops.job_end(uuid, text, bigint, timestamptz, jsonb) FROM PUBLIC;
