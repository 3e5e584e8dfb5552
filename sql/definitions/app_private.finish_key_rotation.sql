-- app_private.finish_key_rotation: the current definition of this function.
-- First created by sql/0430_field_encryption.sql.
-- Serves: seed 000 P1 (field-level encryption, encrypted_fields/key rotation), validation checklist
--         "confirm encryption key rotation works"; seed 004 #15 (content size limit kept), #37.
-- pgkit:after 0430_field_encryption.sql

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
GRANT EXECUTE ON FUNCTION app_private.finish_key_rotation(uuid) TO pgkit_maintenance;
