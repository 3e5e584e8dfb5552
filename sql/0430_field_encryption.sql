-- 0430: field-level encryption of chat_messages.content and planning_notes.note (seed 000 P1
-- "unencrypted sensitive data"), with key ids per row and online key rotation. docs/security.md has the
-- design and the trade-offs; in short:
--   * Key material never lives in the database. The caller supplies it per transaction:
--       set_config('app.enc_keys', '{"<key_id>": "<base64 of 32 random bytes>", ...}', true)
--     from its secret store (src/security/keyring.ts). The database keeps only key ids, a status
--     (active | decrypt_only | retired) and an HMAC check value that proves supplied material is the
--     registered key without revealing it (app_private.encryption_keys).
--   * pgcrypto OpenPGP symmetric encryption (AES-256, salted S2K, MDC integrity check). The plaintext
--     columns stay as write-only inputs: a BEFORE INSERT trigger checks the plaintext rules the CHECK
--     constraints used to (same constraint names, 23514), encrypts under the active key into
--     <col>_enc + <col>_key_id and nulls the plaintext column; CHECK (<col> IS NULL) makes plaintext at
--     rest impossible even with the trigger disabled.
--   * Reads: app.decrypt_text(enc, key_id), or the security_invoker views app.chat_messages_decrypted /
--     app.planning_notes_decrypted. A row decrypts with whichever registered key it names, so rows
--     under the old and the new key both read during a rotation.
--   * Rotation: register the new key, activate it (new writes use it at once), then
--     app_private.reencrypt_batch() in committed batches (FOR UPDATE SKIP LOCKED, safe beside live
--     writes) until no row names an older key; progress in app_private.key_rotations, so a crashed run
--     resumes. A re-encryption must keep the plaintext (checked by the immutability trigger).
-- Serves: seed 000 P1 (field-level encryption, encrypted_fields/key rotation), validation checklist
--         "confirm encryption key rotation works"; seed 004 #15 (content size limit kept), #37.
-- pgkit:replaces sha256:0b531751fd40e2755953168fdd4bbc95ed35fabbd4337bdab3065061c1709b85
-- What this file wrote of functions and views (their definitions, grants, comments and triggers) now lives in
--   sql/definitions/: app_private.tg_chat_messages__immutable.sql, app_private.key_check_value.sql,
--   app_private.key_material.sql, app_private.active_key_id.sql, app_private.encrypt_with.sql,
--   app_private.decrypt_with.sql, app.decrypt_text.sql, app_private.tg__encrypt_field.sql,
--   app.chat_messages_decrypted.sql, app.planning_notes_decrypted.sql, app_private.register_encryption_key.sql,
--   app_private.activate_encryption_key.sql, app_private.encrypted_rows_by_key.sql,
--   app_private.retire_encryption_key.sql, app_private.start_key_rotation.sql, app_private.reencrypt_batch.sql,
--   app_private.finish_key_rotation.sql.

CREATE TABLE IF NOT EXISTS app_private.encryption_keys (
  key_id       text PRIMARY KEY,
  status       text NOT NULL DEFAULT 'decrypt_only',
  key_check    bytea NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  activated_at timestamptz,
  retired_at   timestamptz,
  CONSTRAINT encryption_keys_key_id_check CHECK (key_id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
  CONSTRAINT encryption_keys_status_check CHECK (status IN ('active', 'decrypt_only', 'retired')),
  CONSTRAINT encryption_keys_retired_check CHECK ((status = 'retired') = (retired_at IS NOT NULL))
);
COMMENT ON TABLE app_private.encryption_keys IS
  'Key ids and HMAC check values only; key material is supplied per transaction in app.enc_keys and never stored.';
CREATE UNIQUE INDEX IF NOT EXISTS encryption_keys_active_key ON app_private.encryption_keys ((true)) WHERE status = 'active';

CREATE TABLE IF NOT EXISTS app_private.key_rotations (
  id            uuid PRIMARY KEY DEFAULT extensions.gen_random_uuid(),
  target_key_id text NOT NULL,
  rows_done     bigint NOT NULL DEFAULT 0,
  batches       integer NOT NULL DEFAULT 0,
  started_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz,
  CONSTRAINT key_rotations_target_key_id_fkey FOREIGN KEY (target_key_id)
    REFERENCES app_private.encryption_keys (key_id) ON DELETE RESTRICT ON UPDATE CASCADE,
  CONSTRAINT key_rotations_counts_check CHECK (rows_done >= 0 AND batches >= 0)
);
CREATE INDEX IF NOT EXISTS key_rotations_target_key_id_idx ON app_private.key_rotations (target_key_id);
CREATE UNIQUE INDEX IF NOT EXISTS key_rotations_one_open_key ON app_private.key_rotations ((true)) WHERE finished_at IS NULL;

-- chat_messages.content
ALTER TABLE app.chat_messages ADD COLUMN IF NOT EXISTS content_enc bytea;
ALTER TABLE app.chat_messages ADD COLUMN IF NOT EXISTS content_key_id text;
-- The plaintext column becomes a write-only input (NULL at rest); writers keep sending it.
-- squawk-ignore ban-drop-not-null
ALTER TABLE app.chat_messages ALTER COLUMN content DROP NOT NULL;
ALTER TABLE app.chat_messages DROP CONSTRAINT IF EXISTS chat_messages_content_check;
ALTER TABLE app.chat_messages DROP CONSTRAINT IF EXISTS chat_messages_content_plaintext_check;
ALTER TABLE app.chat_messages ADD CONSTRAINT chat_messages_content_plaintext_check CHECK (content IS NULL);
ALTER TABLE app.chat_messages ALTER COLUMN content_enc SET NOT NULL;
ALTER TABLE app.chat_messages ALTER COLUMN content_key_id SET NOT NULL;
ALTER TABLE app.chat_messages DROP CONSTRAINT IF EXISTS chat_messages_content_key_id_fkey;
ALTER TABLE app.chat_messages ADD CONSTRAINT chat_messages_content_key_id_fkey FOREIGN KEY (content_key_id)
  REFERENCES app_private.encryption_keys (key_id) ON DELETE RESTRICT ON UPDATE CASCADE;
CREATE INDEX IF NOT EXISTS chat_messages_content_key_id_idx ON app.chat_messages (content_key_id);
COMMENT ON COLUMN app.chat_messages.content IS 'Write-only plaintext input: encrypted into content_enc by trigger, always NULL at rest.';

-- planning_notes.note
ALTER TABLE app.planning_notes ADD COLUMN IF NOT EXISTS note_enc bytea;
ALTER TABLE app.planning_notes ADD COLUMN IF NOT EXISTS note_key_id text;
-- The plaintext column becomes a write-only input (NULL at rest); writers keep sending it.
-- squawk-ignore ban-drop-not-null
ALTER TABLE app.planning_notes ALTER COLUMN note DROP NOT NULL;
ALTER TABLE app.planning_notes DROP CONSTRAINT IF EXISTS planning_notes_note_check;
ALTER TABLE app.planning_notes DROP CONSTRAINT IF EXISTS planning_notes_note_plaintext_check;
ALTER TABLE app.planning_notes ADD CONSTRAINT planning_notes_note_plaintext_check CHECK (note IS NULL);
ALTER TABLE app.planning_notes ALTER COLUMN note_enc SET NOT NULL;
ALTER TABLE app.planning_notes ALTER COLUMN note_key_id SET NOT NULL;
ALTER TABLE app.planning_notes DROP CONSTRAINT IF EXISTS planning_notes_note_key_id_fkey;
ALTER TABLE app.planning_notes ADD CONSTRAINT planning_notes_note_key_id_fkey FOREIGN KEY (note_key_id)
  REFERENCES app_private.encryption_keys (key_id) ON DELETE RESTRICT ON UPDATE CASCADE;
CREATE INDEX IF NOT EXISTS planning_notes_note_key_id_idx ON app.planning_notes (note_key_id);
COMMENT ON COLUMN app.planning_notes.note IS 'Write-only plaintext input: encrypted into note_enc by trigger, always NULL at rest.';
