-- app_private.tg_chat_sessions__episode_message_count: the current definition of this function and the triggers that call it.
-- First created by sql/0640_episode_counters.sql.
-- Serves: seed 000 P4 counter caches, seed 004 #22.
-- pgkit:after 0640_episode_counters.sql

CREATE OR REPLACE FUNCTION app_private.tg_chat_sessions__episode_message_count()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_old integer := OLD.message_count_main + OLD.message_count_helper;
BEGIN
  IF OLD.episode_id IS NOT NULL AND v_old <> 0 THEN
    INSERT INTO app_private.episode_counter_deltas (episode_id, chat_message_delta) VALUES (OLD.episode_id, -v_old);
  END IF;
  IF TG_OP = 'UPDATE' AND NEW.episode_id IS NOT NULL AND NEW.message_count_main + NEW.message_count_helper <> 0 THEN
    INSERT INTO app_private.episode_counter_deltas (episode_id, chat_message_delta)
    VALUES (NEW.episode_id, NEW.message_count_main + NEW.message_count_helper);
  END IF;
  RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER chat_sessions_episode_message_count
  AFTER DELETE ON app.chat_sessions
  FOR EACH ROW EXECUTE FUNCTION app_private.tg_chat_sessions__episode_message_count();
CREATE OR REPLACE TRIGGER chat_sessions_episode_message_count_move
  AFTER UPDATE OF episode_id ON app.chat_sessions
  FOR EACH ROW WHEN (OLD.episode_id IS DISTINCT FROM NEW.episode_id)
  EXECUTE FUNCTION app_private.tg_chat_sessions__episode_message_count();
