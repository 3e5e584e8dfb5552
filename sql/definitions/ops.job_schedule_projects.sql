-- ops.job_schedule_projects: the current definition of this function.
-- First created by sql/0710_jobs.sql.
-- Serves: seed 004 #2, #30, #31, #32, #45; seed 001 (queue resilience, circuit breaker release).
-- pgkit:after 0710_jobs.sql

CREATE OR REPLACE FUNCTION ops.job_schedule_projects(p_now timestamptz DEFAULT now())
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_job text := 'schedule_projects'; v_id uuid; v_started timestamptz := pg_catalog.clock_timestamp(); v_rows bigint := 0;
  r record;
  v_state text; v_msg text; v_ctx text;
BEGIN
  v_id := ops.job_begin(v_job, pg_catalog.jsonb_build_object('now', p_now));
  IF v_id IS NULL THEN RETURN pg_catalog.jsonb_build_object('job', v_job, 'status', 'skipped'); END IF;
  BEGIN
    FOR r IN
      SELECT p.id FROM app.projects p
      WHERE NOT p.is_paused AND p.deleted_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM app.episode_schedule_queue q
                        WHERE q.project_id = p.id AND q.status IN ('pending', 'processing', 'blocked'))
      ORDER BY p.id
    LOOP
      IF app.schedule_project(r.id, NULL, p_now) IS NOT NULL THEN
        v_rows := v_rows + 1;
      END IF;
    END LOOP;
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT, v_ctx = PG_EXCEPTION_CONTEXT;
    RETURN ops.job_fail(v_id, v_job, v_started, v_state, v_msg, v_ctx);
  END;
  RETURN ops.job_end(v_id, v_job, v_rows, v_started,
    pg_catalog.jsonb_build_object('window', pg_catalog.jsonb_build_object('scheduled_after', p_now)));
END
$$;
REVOKE ALL ON FUNCTION ops.job_schedule_projects(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.job_schedule_projects(timestamptz) TO pgkit_maintenance;
