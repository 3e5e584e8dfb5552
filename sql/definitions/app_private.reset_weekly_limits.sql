-- app_private.reset_weekly_limits: the current definition of this function.
-- First created by sql/0650_completion_counters.sql.
-- ONE batch of at most p_batch due users per call (issue 17 #2): the caller commits between batches
-- (ops.run_reset_weekly_limits, a procedure), so no transaction ever locks more than one batch of users. It used
-- to loop over every batch in one call, and so one transaction locked the whole user base every Monday.
-- Serves: seed 004 #2, #9, #10, #31, #32; seed 000 P4.
-- pgkit:after 0650_completion_counters.sql

CREATE OR REPLACE FUNCTION app_private.reset_weekly_limits(p_now timestamptz DEFAULT now(), p_batch integer DEFAULT 5000)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_week  timestamptz := app_private.week_start(p_now);
  v_next  timestamptz := app_private.week_start(p_now) + interval '7 days';
  v_n     bigint;
BEGIN
  WITH due AS (
    SELECT u.id FROM app.users u
    WHERE u.week_reset_date <= p_now
    ORDER BY u.week_reset_date, u.id
    LIMIT p_batch
    FOR UPDATE SKIP LOCKED
  )
  UPDATE app.users u
  SET current_week_completion_count = (
        SELECT count(*) FROM app.chat_sessions s
        WHERE s.user_id = u.id AND s.is_completed AND s.scenario_id IS NOT NULL AND s.deleted_at IS NULL
          AND s.completed_at >= v_week),
      week_reset_date = v_next
  FROM due
  WHERE u.id = due.id;
  GET DIAGNOSTICS v_n = ROW_COUNT;
  RETURN v_n;
END
$$;
REVOKE ALL ON FUNCTION app_private.reset_weekly_limits(timestamptz, integer) FROM PUBLIC;
