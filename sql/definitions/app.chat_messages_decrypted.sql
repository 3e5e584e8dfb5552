-- app.chat_messages_decrypted: the current definition of this view.
-- First created by sql/0430_field_encryption.sql.
-- Serves: seed 000 P1 (field-level encryption, encrypted_fields/key rotation), validation checklist
--         "confirm encryption key rotation works"; seed 004 #15 (content size limit kept), #37.
-- pgkit:after 0430_field_encryption.sql
-- pgkit:requires app.decrypt_text

-- Readable views for the application: security_invoker, so the caller's RLS applies to the base table.
CREATE OR REPLACE VIEW app.chat_messages_decrypted
WITH (security_invoker = true, security_barrier = true) AS
SELECT m.id, m.organization_id, m.session_id, m.user_id, m.role, m.chat_type,
       app.decrypt_text(m.content_enc, m.content_key_id) AS content,
       m.content_key_id, m.client_message_id, m.created_at, m.deleted_at, m.deleted_by, m.deleted_reason
FROM app.chat_messages m;
