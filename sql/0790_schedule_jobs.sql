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
-- pgkit:replaces sha256:e1888b6ad2eb4bf1caacdd4dd873dac658f17a8da4503b1766df2d3aac190786
-- What this file wrote of functions and views (their definitions, grants, comments and triggers) now lives in
--   sql/definitions/: ops.job_definitions.sql, ops.job_schedule_blocker.sql, ops.schedule_jobs.sql.

DO $$
BEGIN
  IF ops.job_schedule_blocker() IS NULL THEN
    CREATE EXTENSION IF NOT EXISTS pg_cron;
  END IF;
  PERFORM ops.schedule_jobs();
END
$$;
