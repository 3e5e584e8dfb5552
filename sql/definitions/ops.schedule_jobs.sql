-- ops.schedule_jobs: the current definition of this function.
-- First created by sql/0790_schedule_jobs.sql.
-- Serves: seed 004 #30, #32, #45 (jobs scheduled, logged), seed 001 (cron-based queue processing).
-- pgkit:after 0780_updated_at_everywhere.sql

CREATE OR REPLACE FUNCTION ops.schedule_jobs(p_database text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_db      text := coalesce(p_database, pg_catalog.current_database());
  v_blocker text := ops.job_schedule_blocker();
  v_jobs    jsonb := '[]';
  j         record;
BEGIN
  IF v_blocker IS NULL AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
    v_blocker := 'the pg_cron extension is not created in this database';
  END IF;
  IF v_blocker IS NOT NULL THEN
    INSERT INTO ops.job_schedule_status AS s (database_name, scheduled, reason, jobs, checked_at)
    VALUES (v_db, false, v_blocker, '[]', pg_catalog.now())
    ON CONFLICT (database_name) DO UPDATE SET scheduled = false, reason = EXCLUDED.reason, jobs = '[]', checked_at = EXCLUDED.checked_at;
    RAISE NOTICE 'pgkit: scheduled jobs are NOT registered for database %: %. The job bodies (ops.job_*) are installed and can be run directly.', v_db, v_blocker;
    RETURN 0;
  END IF;

  FOR j IN SELECT * FROM ops.job_definitions() LOOP
    IF v_db = pg_catalog.current_database() THEN
      EXECUTE 'SELECT cron.schedule($1, $2, $3)' USING j.jobname, j.schedule, j.command;
    ELSE
      -- Another database of the cluster: the job name carries it, so each database has its own jobs.
      EXECUTE 'SELECT cron.schedule_in_database($1, $2, $3, $4)'
        USING j.jobname || '@' || v_db, j.schedule, j.command, v_db;
    END IF;
    v_jobs := v_jobs || pg_catalog.jsonb_build_object('jobname', j.jobname, 'schedule', j.schedule, 'command', j.command);
  END LOOP;

  INSERT INTO ops.job_schedule_status AS s (database_name, scheduled, reason, jobs, checked_at)
  VALUES (v_db, true, 'registered with pg_cron', v_jobs, pg_catalog.now())
  ON CONFLICT (database_name) DO UPDATE SET scheduled = true, reason = EXCLUDED.reason, jobs = EXCLUDED.jobs, checked_at = EXCLUDED.checked_at;
  RETURN pg_catalog.jsonb_array_length(v_jobs);
END
$$;
REVOKE ALL ON FUNCTION ops.schedule_jobs(text) FROM PUBLIC;
