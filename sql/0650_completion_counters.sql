-- 0650: users.completed_scenario_count and users.current_week_completion_count that cannot drift
-- (seed 004 #9, #10), and the weekly reset (seed 004 #2, #31, #32).
--   A session counts when it is a completed scenario session that is not soft-deleted:
--     is_completed AND scenario_id IS NOT NULL AND deleted_at IS NULL.
--   It counts for the week when, in addition, completed_at is in the current ISO week (Monday 00:00 UTC).
--   The trigger compares the counted state before and after each INSERT/UPDATE/DELETE and applies the
--     difference: a state transition is counted once (completing twice is impossible, reopening takes the
--     completion back, completing again counts it again), deletes and soft deletes take it back, moving a
--     session to another user or scenario moves it. Net-zero updates do not touch the user row.
--   app_private.reset_weekly_limits(p_now): for users whose week_reset_date has passed, recomputes the
--     weekly count from the sessions (not "set to 0": completions since Monday 00:00 already count) and sets
--     week_reset_date to the next Monday 00:00 UTC in one step — idempotent, and a missed or late run
--     recovers fully (seed 004 #2, #32). Works in batches of p_batch users (row locks, never a table lock,
--     seed 004 #31).
--   app_private.counter_drift(): rows where any counter cache disagrees with a recount (monitoring; tests).
-- Serves: seed 004 #2, #9, #10, #31, #32; seed 000 P4.

CREATE OR REPLACE FUNCTION app_private.week_start(p_at timestamptz)
RETURNS timestamptz
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $$
  SELECT pg_catalog.timezone('UTC', date_trunc('week', pg_catalog.timezone('UTC', p_at)))
$$;
COMMENT ON FUNCTION app_private.week_start(timestamptz) IS 'Monday 00:00 UTC of the ISO week containing p_at.';

CREATE OR REPLACE FUNCTION app_private.tg_chat_sessions__completion_counts()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_week        timestamptz := app_private.week_start(pg_catalog.now());
  v_old_counted boolean := false;
  v_old_week    boolean := false;
  v_new_counted boolean := false;
  v_new_week    boolean := false;
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    v_old_counted := OLD.is_completed AND OLD.scenario_id IS NOT NULL AND OLD.deleted_at IS NULL;
    v_old_week := v_old_counted AND OLD.completed_at >= v_week;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    v_new_counted := NEW.is_completed AND NEW.scenario_id IS NOT NULL AND NEW.deleted_at IS NULL;
    v_new_week := v_new_counted AND NEW.completed_at >= v_week;
  END IF;

  IF TG_OP = 'UPDATE' AND OLD.user_id = NEW.user_id THEN
    IF v_old_counted <> v_new_counted OR v_old_week <> v_new_week THEN
      UPDATE app.users u
      SET completed_scenario_count = u.completed_scenario_count + (v_new_counted::integer - v_old_counted::integer),
          current_week_completion_count = u.current_week_completion_count + (v_new_week::integer - v_old_week::integer)
      WHERE u.id = NEW.user_id;
    END IF;
    RETURN NULL;
  END IF;

  IF v_old_counted THEN
    UPDATE app.users u
    SET completed_scenario_count = u.completed_scenario_count - 1,
        current_week_completion_count = u.current_week_completion_count - v_old_week::integer
    WHERE u.id = OLD.user_id;
  END IF;
  IF v_new_counted THEN
    UPDATE app.users u
    SET completed_scenario_count = u.completed_scenario_count + 1,
        current_week_completion_count = u.current_week_completion_count + v_new_week::integer
    WHERE u.id = NEW.user_id;
  END IF;
  RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER chat_sessions_completion_counts
  AFTER INSERT OR DELETE OR UPDATE OF is_completed, completed_at, scenario_id, user_id, deleted_at ON app.chat_sessions
  FOR EACH ROW EXECUTE FUNCTION app_private.tg_chat_sessions__completion_counts();

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
  v_total bigint := 0;
BEGIN
  LOOP
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
    v_total := v_total + v_n;
    EXIT WHEN v_n < p_batch;
  END LOOP;
  RETURN v_total;
END
$$;

CREATE OR REPLACE FUNCTION app_private.counter_drift()
RETURNS TABLE (counter text, id uuid, cached bigint, actual bigint)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT 'users.completed_scenario_count', u.id, u.completed_scenario_count::bigint, coalesce(c.n, 0)
  FROM app.users u
  LEFT JOIN (SELECT s.user_id, count(*) AS n FROM app.chat_sessions s
             WHERE s.is_completed AND s.scenario_id IS NOT NULL AND s.deleted_at IS NULL GROUP BY s.user_id) c
    ON c.user_id = u.id
  WHERE u.completed_scenario_count <> coalesce(c.n, 0)
  UNION ALL
  SELECT 'users.current_week_completion_count', u.id, u.current_week_completion_count::bigint, coalesce(c.n, 0)
  FROM app.users u
  LEFT JOIN (SELECT s.user_id, count(*) AS n FROM app.chat_sessions s
             WHERE s.is_completed AND s.scenario_id IS NOT NULL AND s.deleted_at IS NULL
               AND s.completed_at >= app_private.week_start(pg_catalog.now()) GROUP BY s.user_id) c
    ON c.user_id = u.id
  WHERE u.week_reset_date > pg_catalog.now() AND u.current_week_completion_count <> coalesce(c.n, 0)
  UNION ALL
  SELECT 'chat_sessions.message_count_' || t.k, s.id,
         CASE t.k WHEN 'main' THEN s.message_count_main ELSE s.message_count_helper END::bigint,
         (SELECT count(*) FROM app.chat_messages m
          WHERE m.session_id = s.id AND m.chat_type::text = t.k AND m.deleted_at IS NULL)
  FROM app.chat_sessions s CROSS JOIN (VALUES ('main'), ('helper')) t(k)
  WHERE CASE t.k WHEN 'main' THEN s.message_count_main ELSE s.message_count_helper END
        <> (SELECT count(*) FROM app.chat_messages m
            WHERE m.session_id = s.id AND m.chat_type::text = t.k AND m.deleted_at IS NULL)
  UNION ALL
  SELECT 'episodes.highlight_count (+pending deltas)', e.id,
         e.highlight_count + coalesce((SELECT sum(d.highlight_delta) FROM app_private.episode_counter_deltas d WHERE d.episode_id = e.id), 0),
         (SELECT count(*) FROM app.highlights h WHERE h.episode_id = e.id AND h.deleted_at IS NULL)
  FROM app.episodes e
  WHERE e.highlight_count + coalesce((SELECT sum(d.highlight_delta) FROM app_private.episode_counter_deltas d WHERE d.episode_id = e.id), 0)
        <> (SELECT count(*) FROM app.highlights h WHERE h.episode_id = e.id AND h.deleted_at IS NULL)
  UNION ALL
  SELECT 'episodes.chat_message_count (+pending deltas)', e.id,
         e.chat_message_count + coalesce((SELECT sum(d.chat_message_delta) FROM app_private.episode_counter_deltas d WHERE d.episode_id = e.id), 0),
         (SELECT count(*) FROM app.chat_messages m JOIN app.chat_sessions s ON s.id = m.session_id
          WHERE s.episode_id = e.id AND m.deleted_at IS NULL)
  FROM app.episodes e
  WHERE e.chat_message_count + coalesce((SELECT sum(d.chat_message_delta) FROM app_private.episode_counter_deltas d WHERE d.episode_id = e.id), 0)
        <> (SELECT count(*) FROM app.chat_messages m JOIN app.chat_sessions s ON s.id = m.session_id
            WHERE s.episode_id = e.id AND m.deleted_at IS NULL)
$$;

REVOKE ALL ON FUNCTION app_private.reset_weekly_limits(timestamptz, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION app_private.counter_drift() FROM PUBLIC;
