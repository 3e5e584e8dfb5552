-- app_private.retire_encryption_key: the current definition of this function.
-- First created by sql/0430_field_encryption.sql.
-- Serves: seed 000 P1 (field-level encryption, encrypted_fields/key rotation), validation checklist
--         "confirm encryption key rotation works"; seed 004 #15 (content size limit kept), #37.
-- pgkit:after 0430_field_encryption.sql

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
GRANT EXECUTE ON FUNCTION app_private.retire_encryption_key(text) TO pgkit_maintenance;
