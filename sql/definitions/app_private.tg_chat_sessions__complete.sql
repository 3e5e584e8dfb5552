-- app_private.tg_chat_sessions__complete: the current definition of this function and the triggers that call it.
-- First created by sql/0132_chat_sessions_completion.sql, redefined by sql/0135_chat_sessions_completion_greatest.sql (their headers say why).
-- Serves: seed 004 #1, #12.
-- pgkit:after 0132_chat_sessions_completion.sql

CREATE OR REPLACE FUNCTION app_private.tg_chat_sessions__complete()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.is_completed AND NEW.completed_at IS NULL THEN
      NEW.completed_at := GREATEST(pg_catalog.now(), NEW.created_at);
    END IF;
  ELSIF NEW.is_completed IS DISTINCT FROM OLD.is_completed THEN
    IF NEW.is_completed AND NEW.completed_at IS NULL THEN
      NEW.completed_at := GREATEST(pg_catalog.now(), NEW.created_at);
    ELSIF NOT NEW.is_completed AND NEW.completed_at IS NOT DISTINCT FROM OLD.completed_at THEN
      NEW.completed_at := NULL;
    END IF;
  END IF;
  RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER chat_sessions_complete
  BEFORE INSERT OR UPDATE OF is_completed, completed_at ON app.chat_sessions
  FOR EACH ROW EXECUTE FUNCTION app_private.tg_chat_sessions__complete();
