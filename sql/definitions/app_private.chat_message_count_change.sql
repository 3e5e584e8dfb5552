-- app_private.chat_message_count_change: the current definition of this function.
-- First created by sql/0630_chat_message_counters_and_rate_limit.sql.
-- Serves: seed 004 #3, #11, #22, #43; seed 000 P4 counter caches.
-- pgkit:after 0630_chat_message_counters_and_rate_limit.sql

-- Applies a message count change to its session (and, through deltas, to its episode).
CREATE OR REPLACE FUNCTION app_private.chat_message_count_change(p_session_id uuid, p_chat_type app.chat_type, p_delta integer, p_created_at timestamptz)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_episode uuid;
BEGIN
  CASE p_chat_type::text
    WHEN 'main' THEN
      UPDATE app.chat_sessions s
      SET message_count_main = s.message_count_main + p_delta,
          last_message_at = CASE WHEN p_delta > 0
                                 THEN GREATEST(s.last_message_at, p_created_at, s.created_at)
                                 ELSE s.last_message_at END
      WHERE s.id = p_session_id
      RETURNING s.episode_id INTO v_episode;
    WHEN 'helper' THEN
      UPDATE app.chat_sessions s
      SET message_count_helper = s.message_count_helper + p_delta,
          last_message_at = CASE WHEN p_delta > 0
                                 THEN GREATEST(s.last_message_at, p_created_at, s.created_at)
                                 ELSE s.last_message_at END
      WHERE s.id = p_session_id
      RETURNING s.episode_id INTO v_episode;
    ELSE
      RAISE EXCEPTION 'invalid chat_type: %', p_chat_type
        USING ERRCODE = 'check_violation', CONSTRAINT = 'chat_messages_chat_type_check',
              SCHEMA = 'app', TABLE = 'chat_messages';
  END CASE;
  IF v_episode IS NOT NULL THEN
    INSERT INTO app_private.episode_counter_deltas (episode_id, chat_message_delta) VALUES (v_episode, p_delta);
  END IF;
END
$$;
REVOKE ALL ON FUNCTION app_private.chat_message_count_change(uuid, app.chat_type, integer, timestamptz) FROM PUBLIC;
