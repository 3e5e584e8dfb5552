-- 0135: fix of 0132 (applied files are immutable, so the fix is its own file): GREATEST is an SQL
-- construct, not a pg_catalog function, so 0132's body failed at the first completion. Same behaviour
-- as 0132 describes: completing a session without a completed_at sets it to now() (never before
-- created_at); reopening clears it.
-- Serves: seed 004 #1, #12.

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
