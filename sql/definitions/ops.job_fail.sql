-- ops.job_fail: the current definition of this function.
-- First created by sql/0600_behaviour_foundation.sql.
-- Serves: seed 004 #32, #45 (job logging), #38/#39 (updated_at everywhere), seed 004 #29.
-- pgkit:after 0600_behaviour_foundation.sql

-- Records a failed run. Called from the job's EXCEPTION block, i.e. after the job's work was rolled back
-- to its savepoint, so the error line survives while the partial work does not (seed 004 #45). Also a
-- WARNING in the server log, and the returned status 'failed' is what pg_cron's run details show.
CREATE OR REPLACE FUNCTION ops.job_fail(p_job_id uuid, p_job text, p_started timestamptz, p_sqlstate text, p_error text, p_context text)
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
      'job_id', p_job_id, 'job', p_job, 'status', 'failed', 'sqlstate', p_sqlstate,
      'error', pg_catalog.left(p_error, 2000), 'context', pg_catalog.left(p_context, 2000),
      'started_at', p_started, 'finished_at', pg_catalog.clock_timestamp());
  INSERT INTO ops.logs (level, event_type, message, metadata)
  VALUES ('error', 'job_failed', p_job || ' failed: ' || pg_catalog.left(p_error, 500), v_result);
  RAISE WARNING 'pgkit job % failed: % (%)', p_job, p_error, p_sqlstate;
  RETURN v_result;
END
$$;
REVOKE ALL ON FUNCTION ops.job_fail(uuid, text, timestamptz, text, text, text) FROM PUBLIC;
