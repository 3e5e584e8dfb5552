-- app_private.tg_chat_messages__immutable: the current definition of this function and the triggers that call it.
-- First created by sql/0134_chat_messages_guards.sql, redefined by sql/0430_field_encryption.sql (their headers say why).
-- Serves: seed 000 P1 (field-level encryption, encrypted_fields/key rotation), validation checklist
--         "confirm encryption key rotation works"; seed 004 #15 (content size limit kept), #37.
-- pgkit:after 0134_chat_messages_guards.sql

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

CREATE OR REPLACE TRIGGER chat_messages_immutable
  BEFORE UPDATE ON app.chat_messages
  FOR EACH ROW EXECUTE FUNCTION app_private.tg_chat_messages__immutable();
