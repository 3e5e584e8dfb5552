-- ops.job_refresh_analytics(): refreshes the analytics materialized views CONCURRENTLY (readers keep reading the
-- previous contents; needs the unique index) every 15 minutes (issue 17 #6). SECURITY DEFINER: REFRESH needs the
-- owner (pgkit_owner), whose owner policies let the view's query see every tenant's rows. Logged like every job.
-- Serves: seed 003 Long-Term #13; seed 004 #32, #45.
-- pgkit:after 1003_analytics.sql

CREATE OR REPLACE FUNCTION ops.job_refresh_analytics()
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_job text := 'refresh_analytics'; v_id uuid; v_started timestamptz := pg_catalog.clock_timestamp(); v_rows bigint;
  v_state text; v_msg text; v_ctx text;
BEGIN
  v_id := ops.job_begin(v_job);
  IF v_id IS NULL THEN RETURN pg_catalog.jsonb_build_object('job', v_job, 'status', 'skipped'); END IF;
  BEGIN
    REFRESH MATERIALIZED VIEW CONCURRENTLY app_private.episode_engagement;
    SELECT count(*) INTO v_rows FROM app_private.episode_engagement;
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT, v_ctx = PG_EXCEPTION_CONTEXT;
    RETURN ops.job_fail(v_id, v_job, v_started, v_state, v_msg, v_ctx);
  END;
  RETURN ops.job_end(v_id, v_job, v_rows, v_started, '{"views": ["app_private.episode_engagement"]}');
END
$$;
REVOKE ALL ON FUNCTION ops.job_refresh_analytics() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.job_refresh_analytics() TO pgkit_maintenance;
