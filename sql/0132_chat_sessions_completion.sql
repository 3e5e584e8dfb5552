-- 0132: completing a chat session sets completed_at itself (seed 004 #1): when is_completed turns true
-- and the caller gave no completed_at, it becomes now(); when is_completed turns false, completed_at
-- is cleared. The CHECK chat_sessions_completed_at_check still rejects any inconsistent pair the
-- caller insists on (e.g. completed_at given with is_completed false).
-- Serves: seed 004 #1 (automatic completed_at + CHECK invariant), #12 (duration follows).

CREATE OR REPLACE FUNCTION app_private.tg_chat_sessions__complete()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.is_completed AND NEW.completed_at IS NULL THEN
      NEW.completed_at := pg_catalog.greatest(pg_catalog.now(), NEW.created_at);
    END IF;
  ELSIF NEW.is_completed IS DISTINCT FROM OLD.is_completed THEN
    IF NEW.is_completed AND NEW.completed_at IS NULL THEN
      NEW.completed_at := pg_catalog.greatest(pg_catalog.now(), NEW.created_at);
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
