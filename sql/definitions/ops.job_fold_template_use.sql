-- ops.job_fold_template_use(): the scheduled fold of template uses into usage_count/last_used_at (issue 17 #4),
-- every minute, logged like every job (job_started/job_completed, job_failed with its work rolled back).
-- Serves: seed 002 #5b, Week 1; seed 004 #32, #45.
-- pgkit:after 1002_template_usage.sql
-- pgkit:requires app_private.fold_template_use

CREATE OR REPLACE FUNCTION ops.job_fold_template_use()
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_job text := 'fold_template_use'; v_id uuid; v_started timestamptz := pg_catalog.clock_timestamp(); v_rows bigint;
  v_state text; v_msg text; v_ctx text;
BEGIN
  v_id := ops.job_begin(v_job);
  IF v_id IS NULL THEN RETURN pg_catalog.jsonb_build_object('job', v_job, 'status', 'skipped'); END IF;
  BEGIN
    v_rows := app_private.fold_template_use();
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT, v_ctx = PG_EXCEPTION_CONTEXT;
    RETURN ops.job_fail(v_id, v_job, v_started, v_state, v_msg, v_ctx);
  END;
  RETURN ops.job_end(v_id, v_job, v_rows, v_started, '{}');
END
$$;
REVOKE ALL ON FUNCTION ops.job_fold_template_use() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.job_fold_template_use() TO pgkit_maintenance;
