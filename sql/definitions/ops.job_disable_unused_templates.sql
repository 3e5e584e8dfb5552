-- ops.job_disable_unused_templates(p_now, p_min_uses, p_window): seed 002's Month 1 review, as a daily job
-- (issue 17 #4): folds pending uses first, then disables (enabled = false, kept, not deleted) every enabled, live
-- template created at least p_window (one month) before p_now with fewer than p_min_uses (5) uses. A template
-- added later gets its own month. Logged with the codes it disabled; re-enable one by hand (UPDATE ... SET enabled
-- = true) and it gets no second review until its usage is looked at again: the job only disables.
-- Serves: seed 002 Post-Deployment Month 1 ("disable low-performing templates (< 5 uses)"); seed 004 #32, #45.
-- pgkit:after 1002_template_usage.sql
-- pgkit:requires app_private.fold_template_use

CREATE OR REPLACE FUNCTION ops.job_disable_unused_templates(p_now timestamptz DEFAULT now(), p_min_uses integer DEFAULT 5,
                                                            p_window interval DEFAULT interval '1 month')
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_job text := 'disable_unused_templates'; v_id uuid; v_started timestamptz := pg_catalog.clock_timestamp();
  v_codes text[]; v_state text; v_msg text; v_ctx text;
BEGIN
  v_id := ops.job_begin(v_job, pg_catalog.jsonb_build_object('now', p_now, 'min_uses', p_min_uses, 'window', p_window::text));
  IF v_id IS NULL THEN RETURN pg_catalog.jsonb_build_object('job', v_job, 'status', 'skipped'); END IF;
  BEGIN
    PERFORM app_private.fold_template_use();
    WITH d AS (
      UPDATE app.question_templates t SET enabled = false
      WHERE t.enabled AND t.deleted_at IS NULL AND t.created_at <= p_now - p_window AND t.usage_count < p_min_uses
      RETURNING t.code
    )
    SELECT pg_catalog.array_agg(d.code ORDER BY d.code) INTO v_codes FROM d;
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT, v_ctx = PG_EXCEPTION_CONTEXT;
    RETURN ops.job_fail(v_id, v_job, v_started, v_state, v_msg, v_ctx);
  END;
  RETURN ops.job_end(v_id, v_job, coalesce(pg_catalog.cardinality(v_codes), 0), v_started,
                     pg_catalog.jsonb_build_object('disabled', pg_catalog.to_jsonb(coalesce(v_codes, '{}'))));
END
$$;
REVOKE ALL ON FUNCTION ops.job_disable_unused_templates(timestamptz, integer, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.job_disable_unused_templates(timestamptz, integer, interval) TO pgkit_maintenance;
