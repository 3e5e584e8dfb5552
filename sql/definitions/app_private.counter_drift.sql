-- app_private.counter_drift: the current definition of this function.
-- First created by sql/0650_completion_counters.sql.
-- Serves: seed 004 #2, #9, #10, #31, #32; seed 000 P4.
-- pgkit:after 0650_completion_counters.sql
-- pgkit:requires app_private.week_start

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
REVOKE ALL ON FUNCTION app_private.counter_drift() FROM PUBLIC;
