-- app.planning_notes_decrypted: the current definition of this view.
-- First created by sql/0430_field_encryption.sql.
-- Serves: seed 000 P1 (field-level encryption, encrypted_fields/key rotation), validation checklist
--         "confirm encryption key rotation works"; seed 004 #15 (content size limit kept), #37.
-- pgkit:after 0430_field_encryption.sql
-- pgkit:requires app.decrypt_text

CREATE OR REPLACE VIEW app.planning_notes_decrypted
WITH (security_invoker = true, security_barrier = true) AS
SELECT n.id, n.organization_id, n.project_id, n.user_id,
       app.decrypt_text(n.note_enc, n.note_key_id) AS note,
       n.note_key_id, n.status, n.processed_at, n.incorporated_episode_id, n.created_at, n.updated_at,
       n.deleted_at, n.deleted_by
FROM app.planning_notes n;
