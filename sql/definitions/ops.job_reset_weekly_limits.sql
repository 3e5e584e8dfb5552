-- ops.job_reset_weekly_limits: the current definition of this function.
-- First created by sql/0710_jobs.sql.
-- One run resets ONE batch of due users and commits with its caller (issue 17 #2); `more` in its result says whether a
-- full batch was done, so more may be due. The scheduled job is the procedure ops.run_reset_weekly_limits, which
-- calls this once per batch and COMMITs in between.
-- Serves: seed 004 #2, #30, #31, #32, #45; seed 001 (queue resilience, circuit breaker release).
-- pgkit:after 0710_jobs.sql

CREATE OR REPLACE FUNCTION ops.job_reset_weekly_limits(p_now timestamptz DEFAULT now(), p_batch integer DEFAULT 5000)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_job text := 'reset_weekly_limits'; v_id uuid; v_started timestamptz := pg_catalog.clock_timestamp(); v_rows bigint;
  v_state text; v_msg text; v_ctx text;
BEGIN
  v_id := ops.job_begin(v_job, pg_catalog.jsonb_build_object('now', p_now, 'batch', p_batch));
  IF v_id IS NULL THEN RETURN pg_catalog.jsonb_build_object('job', v_job, 'status', 'skipped'); END IF;
  BEGIN
    IF p_batch IS NULL OR p_batch < 1 THEN
      RAISE EXCEPTION 'reset_weekly_limits: batch must be >= 1, got %', p_batch USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_rows := app_private.reset_weekly_limits(p_now, p_batch);
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT, v_ctx = PG_EXCEPTION_CONTEXT;
    RETURN ops.job_fail(v_id, v_job, v_started, v_state, v_msg, v_ctx);
  END;
  RETURN ops.job_end(v_id, v_job, v_rows, v_started,
    pg_catalog.jsonb_build_object('window', pg_catalog.jsonb_build_object(
      'week_start', app_private.week_start(p_now), 'next_reset', app_private.week_start(p_now) + interval '7 days'),
      'more', v_rows >= p_batch));
END
$$;
REVOKE ALL ON FUNCTION ops.job_reset_weekly_limits(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.job_reset_weekly_limits(timestamptz, integer) TO pgkit_maintenance;
