-- ops.job_schedule_blocker: the current definition of this function.
-- First created by sql/0790_schedule_jobs.sql.
-- Serves: seed 004 #30, #32, #45 (jobs scheduled, logged), seed 001 (cron-based queue processing).
-- pgkit:after 0780_updated_at_everywhere.sql

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
