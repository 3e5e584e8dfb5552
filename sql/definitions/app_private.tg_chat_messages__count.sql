-- app_private.tg_chat_messages__count: the current definition of this function and the triggers that call it.
-- First created by sql/0630_chat_message_counters_and_rate_limit.sql.
-- Serves: seed 004 #3, #11, #22, #43; seed 000 P4 counter caches.
-- pgkit:after 0630_chat_message_counters_and_rate_limit.sql

CREATE OR REPLACE FUNCTION app_private.tg_chat_messages__count()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.deleted_at IS NULL THEN
      PERFORM app_private.chat_message_count_change(NEW.session_id, NEW.chat_type, 1, NEW.created_at);
    END IF;
  ELSIF TG_OP = 'UPDATE' THEN
    IF OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL THEN
      PERFORM app_private.chat_message_count_change(OLD.session_id, OLD.chat_type, -1, OLD.created_at);
    ELSIF OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL THEN
      PERFORM app_private.chat_message_count_change(NEW.session_id, NEW.chat_type, 1, NEW.created_at);
    END IF;
  ELSIF TG_OP = 'DELETE' THEN
    IF OLD.deleted_at IS NULL THEN
      PERFORM app_private.chat_message_count_change(OLD.session_id, OLD.chat_type, -1, OLD.created_at);
    END IF;
  END IF;
  RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER chat_messages_count
  AFTER INSERT OR DELETE OR UPDATE OF deleted_at ON app.chat_messages
  FOR EACH ROW EXECUTE FUNCTION app_private.tg_chat_messages__count();
