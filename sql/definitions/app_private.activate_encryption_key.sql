-- app_private.activate_encryption_key: the current definition of this function.
-- First created by sql/0430_field_encryption.sql.
-- Serves: seed 000 P1 (field-level encryption, encrypted_fields/key rotation), validation checklist
--         "confirm encryption key rotation works"; seed 004 #15 (content size limit kept), #37.
-- pgkit:after 0430_field_encryption.sql

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
GRANT EXECUTE ON FUNCTION app_private.activate_encryption_key(text) TO pgkit_maintenance;
