-- ops.run_reset_weekly_limits(p_now, p_batch): the scheduled weekly reset (seed 004 #31, issue 17 #2). Calls
-- ops.job_reset_weekly_limits once per batch of p_batch due users and COMMITs after each, so no transaction
-- holds the row locks of more than one batch: users of a batch already done can write at once, whatever the size
-- of the user base (every user falls due on Monday 00:00 UTC). Stops when a batch was not full, failed (logged
-- by the job) or was skipped because another run holds the job lock (that run carries on). The clock is read once,
-- so every batch resets against the same week. Each batch is one logged job run (job_started/job_completed).
-- A procedure, so it may COMMIT: SECURITY INVOKER and without a SET clause (PostgreSQL refuses transaction
-- control in either); everything it calls is schema-qualified, and pg_catalog is searched first anyway. Run it
-- with CALL outside a transaction block (pg_cron does: sql/definitions/ops.job_definitions.sql).
-- Serves: seed 004 #2, #31, #32.
-- pgkit:after 0710_jobs.sql
-- pgkit:requires ops.job_reset_weekly_limits

CREATE OR REPLACE PROCEDURE ops.run_reset_weekly_limits(p_now timestamptz DEFAULT NULL, p_batch integer DEFAULT 5000)
LANGUAGE plpgsql
AS $$
DECLARE
  v_now timestamptz := coalesce(p_now, pg_catalog.now());
  r jsonb;
BEGIN
  LOOP
    r := ops.job_reset_weekly_limits(v_now, p_batch);
    COMMIT;
    EXIT WHEN (r OPERATOR(pg_catalog.->>) 'status') IS DISTINCT FROM 'completed'
           OR NOT coalesce((r OPERATOR(pg_catalog.->>) 'more')::boolean, false);
  END LOOP;
END
$$;
COMMENT ON PROCEDURE ops.run_reset_weekly_limits(timestamptz, integer) IS
  'Weekly limit reset, one committed transaction per batch of users (issue 17 #2); CALL it outside a transaction block.';
REVOKE ALL ON PROCEDURE ops.run_reset_weekly_limits(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON PROCEDURE ops.run_reset_weekly_limits(timestamptz, integer) TO pgkit_maintenance;
