-- app_private.encrypted_rows_by_key: the current definition of this function.
-- First created by sql/0430_field_encryption.sql.
-- Serves: seed 000 P1 (field-level encryption, encrypted_fields/key rotation), validation checklist
--         "confirm encryption key rotation works"; seed 004 #15 (content size limit kept), #37.
-- pgkit:after 0430_field_encryption.sql

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
GRANT EXECUTE ON FUNCTION app_private.encrypted_rows_by_key() TO pgkit_maintenance;
