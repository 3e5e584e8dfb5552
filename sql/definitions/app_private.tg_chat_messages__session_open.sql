-- app_private.tg_chat_messages__session_open: the current definition of this function and the triggers that call it.
-- First created by sql/0134_chat_messages_guards.sql, redefined by sql/0630_chat_message_counters_and_rate_limit.sql (their headers say why).
-- Serves: seed 004 #3, #11, #22, #43; seed 000 P4 counter caches.
-- pgkit:after 0630_chat_message_counters_and_rate_limit.sql

-- Replaces 0134's body: same open check, stronger lock, plus the rate limit.
CREATE OR REPLACE FUNCTION app_private.tg_chat_messages__session_open()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_completed boolean;
  v_deleted   timestamptz;
  v_limit     ops.rate_limits%ROWTYPE;
  v_last      timestamptz;
  v_recent    integer;
  v_now       timestamptz := pg_catalog.now();
BEGIN
  SELECT s.is_completed, s.deleted_at INTO v_completed, v_deleted
  FROM app.chat_sessions s
  WHERE s.id = NEW.session_id
  FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RETURN NEW; -- the foreign key reports the missing session
  END IF;
  IF v_completed OR v_deleted IS NOT NULL THEN
    RAISE EXCEPTION 'chat session % is %; no new messages', NEW.session_id,
        CASE WHEN v_completed THEN 'completed' ELSE 'deleted' END
      USING ERRCODE = 'check_violation',
            CONSTRAINT = 'chat_messages_session_open_check',
            SCHEMA = 'app', TABLE = 'chat_messages';
  END IF;

  IF NEW.role <> 'user' THEN
    RETURN NEW;
  END IF;
  -- An idempotent retry of a stored message is left to the unique key (ON CONFLICT DO NOTHING or 23505).
  IF NEW.client_message_id IS NOT NULL AND EXISTS (
       SELECT 1 FROM app.chat_messages m
       WHERE m.session_id = NEW.session_id AND m.client_message_id = NEW.client_message_id) THEN
    RETURN NEW;
  END IF;

  SELECT * INTO v_limit FROM ops.rate_limits r
  WHERE r.name = 'chat_messages.user' AND (r.organization_id = NEW.organization_id OR r.organization_id IS NULL)
  ORDER BY r.organization_id NULLS LAST
  LIMIT 1;
  IF NOT FOUND OR NOT v_limit.enabled THEN
    RETURN NEW;
  END IF;

  IF v_limit.min_interval > interval '0' THEN
    SELECT m.created_at INTO v_last FROM app.chat_messages m
    WHERE m.session_id = NEW.session_id AND m.role = 'user'
    ORDER BY m.created_at DESC, m.id DESC
    LIMIT 1;
    IF v_last IS NOT NULL AND v_last <= v_now AND v_now - v_last < v_limit.min_interval THEN
      RAISE EXCEPTION 'rate limit: user messages in session % must be at least % apart', NEW.session_id, v_limit.min_interval
        USING ERRCODE = 'P0429',
              HINT = pg_catalog.format('retry after %s', v_last + v_limit.min_interval),
              SCHEMA = 'app', TABLE = 'chat_messages';
    END IF;
  END IF;

  SELECT count(*) INTO v_recent FROM (
    SELECT 1 FROM app.chat_messages m
    WHERE m.session_id = NEW.session_id AND m.role = 'user' AND m.created_at > v_now - v_limit.per_interval
    LIMIT v_limit.max_events) recent;
  IF v_recent >= v_limit.max_events THEN
    RAISE EXCEPTION 'rate limit: at most % user messages per % in session %', v_limit.max_events, v_limit.per_interval, NEW.session_id
      USING ERRCODE = 'P0429', SCHEMA = 'app', TABLE = 'chat_messages';
  END IF;
  RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER chat_messages_session_open
  BEFORE INSERT ON app.chat_messages
  FOR EACH ROW EXECUTE FUNCTION app_private.tg_chat_messages__session_open();
