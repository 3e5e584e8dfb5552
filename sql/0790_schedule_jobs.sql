-- 0790: registers the jobs of 0710 with pg_cron — or says, loudly, why not.
-- pg_cron runs in exactly one database of a cluster (cron.database_name; `pgkit` in the local and test
-- stacks, set by the parameter group on RDS). CREATE EXTENSION pg_cron works only there, so:
--   * in that database this file creates the extension and calls ops.schedule_jobs(), which registers
--     every job of ops.job_definitions() with cron.schedule (by name: re-running updates, never duplicates);
--   * anywhere else (e.g. the per-test databases) it raises a NOTICE saying the jobs are not scheduled here
--     and why, and records the same in ops.job_schedule_status — never a silent skip. From the cron database
--     an operator can still schedule them into another database with
--     SELECT ops.schedule_jobs('<database>')  (cron.schedule_in_database).
-- Jobs run as the role that scheduled them (the migrator); schedules are in UTC (pg_cron's clock).
-- Serves: seed 004 #30, #32, #45 (jobs scheduled, logged), seed 001 (cron-based queue processing).

CREATE OR REPLACE FUNCTION ops.job_definitions()
RETURNS TABLE (jobname text, schedule text, command text)
LANGUAGE sql
IMMUTABLE
AS $$
  VALUES
    ('pgkit_partition_maintenance', '7 * * * *',    'SELECT ops.job_partition_maintenance()'),
    ('pgkit_reap_queue_leases',     '* * * * *',    'SELECT ops.job_reap_queue_leases()'),
    ('pgkit_release_cost_blocks',   '*/15 * * * *', 'SELECT ops.job_release_cost_blocks()'),
    ('pgkit_schedule_projects',     '*/5 * * * *',  'SELECT ops.job_schedule_projects()'),
    ('pgkit_fold_episode_counters', '* * * * *',    'SELECT ops.job_fold_episode_counters()'),
    ('pgkit_reset_weekly_limits',   '5 * * * *',    'SELECT ops.job_reset_weekly_limits()'),
    ('pgkit_cron_history_cleanup',  '17 3 * * *',   'DELETE FROM cron.job_run_details WHERE end_time < now() - interval ''14 days''')
$$;

-- Why jobs cannot be scheduled into p_database from here; NULL when they can.
CREATE OR REPLACE FUNCTION ops.job_schedule_blocker()
RETURNS text
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
  v_cron_db text := pg_catalog.current_setting('cron.database_name', true);
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name = 'pg_cron') THEN
    RETURN 'pg_cron is not installed on this server';
  ELSIF v_cron_db IS NULL OR v_cron_db = '' THEN
    RETURN 'pg_cron is not loaded (add it to shared_preload_libraries and set cron.database_name)';
  ELSIF v_cron_db <> pg_catalog.current_database() THEN
    RETURN pg_catalog.format('pg_cron runs in database %s (cron.database_name), not in %s; schedule from there with SELECT ops.schedule_jobs(%L)',
                             v_cron_db, pg_catalog.current_database(), pg_catalog.current_database());
  END IF;
  RETURN NULL;
END
$$;

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

DO $$
BEGIN
  IF ops.job_schedule_blocker() IS NULL THEN
    CREATE EXTENSION IF NOT EXISTS pg_cron;
  END IF;
  PERFORM ops.schedule_jobs();
END
$$;
