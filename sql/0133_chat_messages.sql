-- 0133: app.chat_messages — the messages of a chat session (seed 004's messages).
--   role enum app.chat_message_role ('user', 'main_assistant', 'helper_assistant') — says which assistant
--     spoke (seed 004 #36) — and chat_type enum app.chat_type ('main', 'helper') (seed 004 #13); only the
--     valid combinations are accepted (#14);
--   content 1..8000 characters (#15); issue 4 moves content to encrypted storage (seed 000 P1) and
--     carries the size limit with it;
--   user_id denormalized from the session for cheap RLS (#18; issue 4 keeps it consistent);
--   single timestamp created_at (#7, #39);
--   client_message_id idempotency key, unique per session when given (#46);
--   keyset pagination index (session_id, created_at, id) (#21);
--   soft delete only: deleted_at/deleted_by/deleted_reason (#35); everything else is immutable (0134, #37).
-- STREAMING DECISION (seed 004 #4): true immutability. A message row is written once, when the reply
--   is final; character-by-character streaming lives in the service and the connection to the client,
--   never in UPDATEs of this table. No is_final flag, so counters (issue 5, #11, #22) count every row
--   exactly once. If partial replies ever need to survive a crash, they go to a separate
--   message_chunks table (option B), not built now.
-- Serves: seed 004 #4, #7, #13, #14, #15, #18, #21, #35, #36, #39, #40, #46; seed 001 ChatMessage.

DO $$ BEGIN
  CREATE TYPE app.chat_message_role AS ENUM ('user', 'main_assistant', 'helper_assistant');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN
  CREATE TYPE app.chat_type AS ENUM ('main', 'helper');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;

CREATE TABLE IF NOT EXISTS app.chat_messages (
  id                uuid PRIMARY KEY DEFAULT extensions.gen_random_uuid(),
  organization_id   uuid NOT NULL,
  session_id        uuid NOT NULL,
  user_id           uuid NOT NULL,
  role              app.chat_message_role NOT NULL,
  chat_type         app.chat_type NOT NULL,
  content           text NOT NULL,
  client_message_id uuid,
  created_at        timestamptz NOT NULL DEFAULT now(),
  deleted_at        timestamptz,
  deleted_by        uuid,
  deleted_reason    text,
  CONSTRAINT chat_messages_organization_id_fkey FOREIGN KEY (organization_id)
    REFERENCES app.organizations (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT chat_messages_session_id_fkey FOREIGN KEY (session_id)
    REFERENCES app.chat_sessions (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT chat_messages_user_id_fkey FOREIGN KEY (user_id)
    REFERENCES app.users (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT chat_messages_role_chat_type_check CHECK (
    (role = 'main_assistant' AND chat_type = 'main')
    OR (role = 'helper_assistant' AND chat_type = 'helper')
    OR (role = 'user')),
  CONSTRAINT chat_messages_content_check CHECK (char_length(content) BETWEEN 1 AND 8000),
  CONSTRAINT chat_messages_deleted_after_created_check CHECK (deleted_at IS NULL OR deleted_at >= created_at),
  CONSTRAINT chat_messages_deleted_by_check CHECK ((deleted_by IS NULL AND deleted_reason IS NULL) OR deleted_at IS NOT NULL),
  CONSTRAINT chat_messages_deleted_reason_check CHECK (deleted_reason IS NULL OR char_length(deleted_reason) <= 500)
);

-- Keyset pagination: WHERE session_id = $1 AND (created_at, id) > ($2, $3) ORDER BY created_at, id (seed 004 #21).
-- Also serves the session_id FK.
CREATE INDEX IF NOT EXISTS chat_messages_session_id_created_at_id_idx
  ON app.chat_messages (session_id, created_at, id);
-- Idempotent retries (seed 004 #46).
CREATE UNIQUE INDEX IF NOT EXISTS chat_messages_session_id_client_message_id_key
  ON app.chat_messages (session_id, client_message_id) WHERE client_message_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS chat_messages_user_id_idx ON app.chat_messages (user_id);
CREATE INDEX IF NOT EXISTS chat_messages_organization_id_idx ON app.chat_messages (organization_id);
