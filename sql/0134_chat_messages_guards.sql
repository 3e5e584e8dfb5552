-- 0134: the chat_messages rules that need a trigger to be constraints.
--   chat_messages_session_open_check (seed 004 #3): no message into a completed (or soft-deleted)
--     session. The session row is read FOR SHARE, so a concurrent completion (an UPDATE of the
--     session) waits for the insert's transaction and vice versa: no message slips in after completion.
--   chat_messages_immutable_check (seed 004 #37, #35): an UPDATE may change only deleted_at,
--     deleted_by, deleted_reason; every other column is immutable.
-- Both raise SQLSTATE 23514 (check_violation) with the constraint name, like a CHECK would.
-- Serves: seed 004 #3, #35, #37.

CREATE OR REPLACE FUNCTION app_private.tg_chat_messages__session_open()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
AS $$
DECLARE
  v_completed boolean;
  v_deleted   timestamptz;
BEGIN
  SELECT s.is_completed, s.deleted_at INTO v_completed, v_deleted
  FROM app.chat_sessions s
  WHERE s.id = NEW.session_id
  FOR SHARE;
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
  RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER chat_messages_session_open
  BEFORE INSERT ON app.chat_messages
  FOR EACH ROW EXECUTE FUNCTION app_private.tg_chat_messages__session_open();

CREATE OR REPLACE FUNCTION app_private.tg_chat_messages__immutable()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
AS $$
BEGIN
  -- Compare the rows with the soft-delete columns masked out.
  IF (to_jsonb(NEW) - ARRAY['deleted_at', 'deleted_by', 'deleted_reason'])
     IS DISTINCT FROM (to_jsonb(OLD) - ARRAY['deleted_at', 'deleted_by', 'deleted_reason']) THEN
    RAISE EXCEPTION 'chat messages are immutable; only deleted_at, deleted_by, deleted_reason may change'
      USING ERRCODE = 'check_violation',
            CONSTRAINT = 'chat_messages_immutable_check',
            SCHEMA = 'app', TABLE = 'chat_messages';
  END IF;
  RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER chat_messages_immutable
  BEFORE UPDATE ON app.chat_messages
  FOR EACH ROW EXECUTE FUNCTION app_private.tg_chat_messages__immutable();
