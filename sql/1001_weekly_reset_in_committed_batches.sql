-- 1001: the weekly reset commits each batch (issue 17 #2). app_private.reset_weekly_limits now resets one batch
-- per call and the scheduled job CALLs the procedure ops.run_reset_weekly_limits, which COMMITs after each batch
-- (sql/definitions/). This file registers the job's new command with pg_cron where jobs run (sql/0790's rules):
-- a database that had the old command would otherwise reset one batch an hour.
-- Serves: seed 004 #31 (batch the weekly reset), #32.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

SELECT ops.schedule_jobs();
