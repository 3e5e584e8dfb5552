-- ops.job_reap_queue_leases: the current definition of this function.
-- First created by sql/0710_jobs.sql.
-- Serves: seed 004 #2, #30, #31, #32, #45; seed 001 (queue resilience, circuit breaker release).
-- pgkit:after 0710_jobs.sql

CREATE OR REPLACE FUNCTION ops.job_reap_queue_leases()
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_job text := 'reap_queue_leases'; v_id uuid; v_started timestamptz := pg_catalog.clock_timestamp(); v_rows bigint;
  v_state text; v_msg text; v_ctx text;
BEGIN
  v_id := ops.job_begin(v_job);
  IF v_id IS NULL THEN RETURN pg_catalog.jsonb_build_object('job', v_job, 'status', 'skipped'); END IF;
  BEGIN
    v_rows := app.reap_expired_queue_leases(10000);
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT, v_ctx = PG_EXCEPTION_CONTEXT;
    RETURN ops.job_fail(v_id, v_job, v_started, v_state, v_msg, v_ctx);
  END;
  RETURN ops.job_end(v_id, v_job, v_rows, v_started,
    pg_catalog.jsonb_build_object('window', pg_catalog.jsonb_build_object('lease_expired_before', v_started)));
END
$$;
REVOKE ALL ON FUNCTION ops.job_reap_queue_leases() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.job_reap_queue_leases() TO pgkit_maintenance;
