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

-- The check value: HMAC-SHA256 keyed with the material over a constant naming the key id.
CREATE OR REPLACE FUNCTION app_private.key_check_value(p_key_id text, p_material text)
RETURNS bytea
LANGUAGE sql
IMMUTABLE
STRICT
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT extensions.hmac(pg_catalog.convert_to('pgkit-key-check:' || p_key_id, 'UTF8'),
                         pg_catalog.convert_to(p_material, 'UTF8'), 'sha256')
$$;

-- Key material of p_key_id from this transaction's app.enc_keys, verified against the registered check
-- value. Never echoes the setting: a malformed keyring is reported without its content.
CREATE OR REPLACE FUNCTION app_private.key_material(p_key_id text)
RETURNS text
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_raw   text := pg_catalog.current_setting('app.enc_keys', true);
  v_key   text;
  v_check bytea;
BEGIN
  IF v_raw IS NULL OR v_raw = '' THEN
    RAISE EXCEPTION 'encryption key % was not supplied for this transaction (app.enc_keys)', p_key_id
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF v_raw !~ '^\s*\{\s*("[A-Za-z0-9_.-]+"\s*:\s*"[A-Za-z0-9+/=_-]+"(\s*,\s*"[A-Za-z0-9_.-]+"\s*:\s*"[A-Za-z0-9+/=_-]+")*)?\s*\}\s*$' THEN
    RAISE EXCEPTION 'app.enc_keys is not a JSON object of key id to base64 key material'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  v_key := v_raw::jsonb ->> p_key_id;
  IF v_key IS NULL THEN
    RAISE EXCEPTION 'encryption key % was not supplied for this transaction (app.enc_keys)', p_key_id
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  SELECT k.key_check INTO v_check FROM app_private.encryption_keys k WHERE k.key_id = p_key_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'encryption key % is not registered', p_key_id USING ERRCODE = 'undefined_object';
  END IF;
  IF app_private.key_check_value(p_key_id, v_key) <> v_check THEN
    RAISE EXCEPTION 'the material supplied for encryption key % is not the registered key', p_key_id
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN v_key;
END
$$;

CREATE OR REPLACE FUNCTION app_private.active_key_id()
RETURNS text
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v text;
BEGIN
  SELECT k.key_id INTO v FROM app_private.encryption_keys k WHERE k.status = 'active';
  IF v IS NULL THEN
    RAISE EXCEPTION 'no active encryption key: register and activate one (npm run rotate-keys)'
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  RETURN v;
END
$$;

CREATE OR REPLACE FUNCTION app_private.encrypt_with(p_plain text, p_key_id text)
RETURNS bytea
LANGUAGE sql
VOLATILE
STRICT
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT extensions.pgp_sym_encrypt(p_plain, app_private.key_material(p_key_id),
           'cipher-algo=aes256, compress-algo=0, s2k-mode=1, s2k-digest-algo=sha256, unicode-mode=1')
$$;

CREATE OR REPLACE FUNCTION app_private.decrypt_with(p_enc bytea, p_key_id text)
RETURNS text
LANGUAGE sql
STABLE
STRICT
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT extensions.pgp_sym_decrypt(p_enc, app_private.key_material(p_key_id))
$$;

-- What the application calls to read an encrypted field (RLS decides which rows it can pass in).
CREATE OR REPLACE FUNCTION app.decrypt_text(p_enc bytea, p_key_id text)
RETURNS text
LANGUAGE sql
STABLE
STRICT
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT app_private.decrypt_with(p_enc, p_key_id)
$$;
COMMENT ON FUNCTION app.decrypt_text(bytea, text) IS
  'Decrypts an encrypted field with the key it names; the key material must be in this transaction''s app.enc_keys.';

-- BEFORE INSERT (OR UPDATE OF the plaintext column): TG_ARGV = plaintext column, max characters,
-- blank allowed ('true'/'false'), constraint name for the size rule.
CREATE OR REPLACE FUNCTION app_private.tg__encrypt_field()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_col   text := TG_ARGV[0];
  v_max   integer := TG_ARGV[1]::integer;
  v_blank boolean := TG_ARGV[2]::boolean;
  v_plain text := pg_catalog.to_jsonb(NEW) ->> v_col;
  v_key   text;
BEGIN
  IF v_plain IS NULL THEN
    IF TG_OP = 'INSERT' AND pg_catalog.to_jsonb(NEW) ->> (v_col || '_enc') IS NULL THEN
      RAISE EXCEPTION '%.% is required', TG_TABLE_NAME, v_col
        USING ERRCODE = 'check_violation', CONSTRAINT = TG_ARGV[3], SCHEMA = TG_TABLE_SCHEMA, TABLE = TG_TABLE_NAME;
    END IF;
    RETURN NEW;  -- already-encrypted input (restore, re-encryption) or an update of other columns
  END IF;
  IF pg_catalog.char_length(CASE WHEN v_blank THEN v_plain ELSE pg_catalog.btrim(v_plain) END) < 1
     OR pg_catalog.char_length(v_plain) > v_max THEN
    RAISE EXCEPTION '%.% must be 1 to % characters', TG_TABLE_NAME, v_col, v_max
      USING ERRCODE = 'check_violation', CONSTRAINT = TG_ARGV[3], SCHEMA = TG_TABLE_SCHEMA, TABLE = TG_TABLE_NAME;
  END IF;
  v_key := app_private.active_key_id();
  NEW := pg_catalog.jsonb_populate_record(NEW, pg_catalog.jsonb_build_object(
           v_col, NULL,
           v_col || '_enc', app_private.encrypt_with(v_plain, v_key),
           v_col || '_key_id', v_key));
  RETURN NEW;
END
$$;

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

CREATE OR REPLACE TRIGGER chat_messages_encrypt_content
  BEFORE INSERT ON app.chat_messages
  FOR EACH ROW EXECUTE FUNCTION app_private.tg__encrypt_field('content', '8000', 'true', 'chat_messages_content_check');

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

CREATE OR REPLACE TRIGGER planning_notes_encrypt_note
  BEFORE INSERT OR UPDATE OF note ON app.planning_notes
  FOR EACH ROW EXECUTE FUNCTION app_private.tg__encrypt_field('note', '4000', 'false', 'planning_notes_note_check');

-- chat_messages stay immutable (0134, seed 004 #37); the only other change allowed is a re-encryption
-- that keeps the plaintext (key rotation). Replaces 0134's function body.
CREATE OR REPLACE FUNCTION app_private.tg_chat_messages__immutable()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF (pg_catalog.to_jsonb(NEW) - ARRAY['deleted_at', 'deleted_by', 'deleted_reason', 'content_enc', 'content_key_id'])
     IS DISTINCT FROM (pg_catalog.to_jsonb(OLD) - ARRAY['deleted_at', 'deleted_by', 'deleted_reason', 'content_enc', 'content_key_id'])
     OR ((NEW.content_enc IS DISTINCT FROM OLD.content_enc OR NEW.content_key_id IS DISTINCT FROM OLD.content_key_id)
         AND app_private.decrypt_with(NEW.content_enc, NEW.content_key_id)
             IS DISTINCT FROM app_private.decrypt_with(OLD.content_enc, OLD.content_key_id)) THEN
    RAISE EXCEPTION 'chat messages are immutable; only deleted_at, deleted_by, deleted_reason may change'
      USING ERRCODE = 'check_violation',
            CONSTRAINT = 'chat_messages_immutable_check',
            SCHEMA = 'app', TABLE = 'chat_messages';
  END IF;
  RETURN NEW;
END
$$;

-- Readable views for the application: security_invoker, so the caller's RLS applies to the base table.
CREATE OR REPLACE VIEW app.chat_messages_decrypted
WITH (security_invoker = true, security_barrier = true) AS
SELECT m.id, m.organization_id, m.session_id, m.user_id, m.role, m.chat_type,
       app.decrypt_text(m.content_enc, m.content_key_id) AS content,
       m.content_key_id, m.client_message_id, m.created_at, m.deleted_at, m.deleted_by, m.deleted_reason
FROM app.chat_messages m;

CREATE OR REPLACE VIEW app.planning_notes_decrypted
WITH (security_invoker = true, security_barrier = true) AS
SELECT n.id, n.organization_id, n.project_id, n.user_id,
       app.decrypt_text(n.note_enc, n.note_key_id) AS note,
       n.note_key_id, n.status, n.processed_at, n.incorporated_episode_id, n.created_at, n.updated_at,
       n.deleted_at, n.deleted_by
FROM app.planning_notes n;

-- Key management (granted to pgkit_maintenance in 0440): the material must be in app.enc_keys.
CREATE OR REPLACE FUNCTION app_private.register_encryption_key(p_key_id text)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_raw   text := pg_catalog.current_setting('app.enc_keys', true);
  v_key   text;
  v_check bytea;
BEGIN
  IF v_raw IS NULL OR v_raw !~ '^\s*\{\s*("[A-Za-z0-9_.-]+"\s*:\s*"[A-Za-z0-9+/=_-]+"(\s*,\s*"[A-Za-z0-9_.-]+"\s*:\s*"[A-Za-z0-9+/=_-]+")*)?\s*\}\s*$' THEN
    RAISE EXCEPTION 'supply the key material in app.enc_keys (a JSON object of key id to base64) to register key %', p_key_id
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  v_key := v_raw::jsonb ->> p_key_id;
  IF v_key IS NULL OR pg_catalog.length(v_key) < 43 THEN
    RAISE EXCEPTION 'key % must be supplied as base64 of at least 32 random bytes', p_key_id USING ERRCODE = 'invalid_parameter_value';
  END IF;
  v_check := app_private.key_check_value(p_key_id, v_key);
  INSERT INTO app_private.encryption_keys (key_id, key_check) VALUES (p_key_id, v_check)
  ON CONFLICT (key_id) DO NOTHING;
  IF (SELECT k.key_check FROM app_private.encryption_keys k WHERE k.key_id = p_key_id) <> v_check THEN
    RAISE EXCEPTION 'key % is already registered with different material', p_key_id USING ERRCODE = 'unique_violation';
  END IF;
END
$$;

CREATE OR REPLACE FUNCTION app_private.activate_encryption_key(p_key_id text)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  PERFORM app_private.key_material(p_key_id);  -- registered, supplied and correct
  IF (SELECT k.status FROM app_private.encryption_keys k WHERE k.key_id = p_key_id) = 'retired' THEN
    RAISE EXCEPTION 'key % is retired', p_key_id USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  UPDATE app_private.encryption_keys SET status = 'decrypt_only' WHERE status = 'active' AND key_id <> p_key_id;
  UPDATE app_private.encryption_keys SET status = 'active', activated_at = pg_catalog.now()
  WHERE key_id = p_key_id AND status <> 'active';
END
$$;

-- Rows per (table, key id): what a rotation still has to do.
CREATE OR REPLACE FUNCTION app_private.encrypted_rows_by_key()
RETURNS TABLE (table_name text, key_id text, row_count bigint)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT 'app.chat_messages', m.content_key_id, pg_catalog.count(*) FROM app.chat_messages m GROUP BY m.content_key_id
  UNION ALL
  SELECT 'app.planning_notes', n.note_key_id, pg_catalog.count(*) FROM app.planning_notes n GROUP BY n.note_key_id
$$;

CREATE OR REPLACE FUNCTION app_private.retire_encryption_key(p_key_id text)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF (SELECT k.status FROM app_private.encryption_keys k WHERE k.key_id = p_key_id) IS DISTINCT FROM 'decrypt_only' THEN
    RAISE EXCEPTION 'only a registered, inactive key can be retired (%)', p_key_id USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  IF EXISTS (SELECT 1 FROM app_private.encrypted_rows_by_key() r WHERE r.key_id = p_key_id) THEN
    RAISE EXCEPTION 'rows are still encrypted under key %: finish the rotation first', p_key_id
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  UPDATE app_private.encryption_keys SET status = 'retired', retired_at = pg_catalog.now() WHERE key_id = p_key_id;
END
$$;

-- Opens (or resumes) the rotation to the active key; returns its id.
CREATE OR REPLACE FUNCTION app_private.start_key_rotation()
RETURNS uuid
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_target text := app_private.active_key_id();
  v_id uuid;
BEGIN
  SELECT r.id INTO v_id FROM app_private.key_rotations r WHERE r.finished_at IS NULL FOR UPDATE;
  IF v_id IS NOT NULL THEN
    UPDATE app_private.key_rotations SET target_key_id = v_target, updated_at = pg_catalog.now() WHERE id = v_id;
    RETURN v_id;
  END IF;
  INSERT INTO app_private.key_rotations (target_key_id) VALUES (v_target) RETURNING id INTO v_id;
  RETURN v_id;
END
$$;

-- One batch: up to p_batch rows of p_table not under the target key are re-encrypted under it. Rows locked
-- by live transactions are skipped (the next batch gets them). Commit after each call.
CREATE OR REPLACE FUNCTION app_private.reencrypt_batch(p_rotation_id uuid, p_table text, p_batch integer DEFAULT 500)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_target text;
  v_old    text[];
  v_n      integer;
BEGIN
  SELECT r.target_key_id INTO v_target FROM app_private.key_rotations r WHERE r.id = p_rotation_id AND r.finished_at IS NULL;
  IF v_target IS NULL THEN
    RAISE EXCEPTION 'rotation % is not open', p_rotation_id USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  IF v_target <> app_private.active_key_id() THEN
    RAISE EXCEPTION 'key % is no longer the active key; restart the rotation', v_target USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  v_old := ARRAY(SELECT k.key_id FROM app_private.encryption_keys k WHERE k.key_id <> v_target);
  IF p_table = 'app.chat_messages' THEN
    WITH c AS (
      SELECT m.id FROM app.chat_messages m WHERE m.content_key_id = ANY (v_old)
      LIMIT p_batch FOR UPDATE SKIP LOCKED)
    UPDATE app.chat_messages m
       SET content_enc = app_private.encrypt_with(app_private.decrypt_with(m.content_enc, m.content_key_id), v_target),
           content_key_id = v_target
      FROM c WHERE m.id = c.id;
  ELSIF p_table = 'app.planning_notes' THEN
    WITH c AS (
      SELECT n.id FROM app.planning_notes n WHERE n.note_key_id = ANY (v_old)
      LIMIT p_batch FOR UPDATE SKIP LOCKED)
    UPDATE app.planning_notes n
       SET note_enc = app_private.encrypt_with(app_private.decrypt_with(n.note_enc, n.note_key_id), v_target),
           note_key_id = v_target
      FROM c WHERE n.id = c.id;
  ELSE
    RAISE EXCEPTION 'no encrypted field in %', p_table USING ERRCODE = 'invalid_parameter_value';
  END IF;
  GET DIAGNOSTICS v_n = ROW_COUNT;
  UPDATE app_private.key_rotations
     SET rows_done = rows_done + v_n, batches = batches + 1, updated_at = pg_catalog.now()
   WHERE id = p_rotation_id;
  RETURN v_n;
END
$$;

-- Closes the rotation when no row is left under another key; returns whether it closed.
CREATE OR REPLACE FUNCTION app_private.finish_key_rotation(p_rotation_id uuid)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_target text := (SELECT r.target_key_id FROM app_private.key_rotations r WHERE r.id = p_rotation_id);
BEGIN
  IF EXISTS (SELECT 1 FROM app_private.encrypted_rows_by_key() r WHERE r.key_id <> v_target) THEN
    RETURN false;
  END IF;
  UPDATE app_private.key_rotations SET finished_at = pg_catalog.now(), updated_at = pg_catalog.now()
  WHERE id = p_rotation_id AND finished_at IS NULL;
  RETURN true;
END
$$;
