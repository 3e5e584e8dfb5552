-- app_private.start_key_rotation: the current definition of this function.
-- First created by sql/0430_field_encryption.sql.
-- Serves: seed 000 P1 (field-level encryption, encrypted_fields/key rotation), validation checklist
--         "confirm encryption key rotation works"; seed 004 #15 (content size limit kept), #37.
-- pgkit:after 0430_field_encryption.sql

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
GRANT EXECUTE ON FUNCTION app_private.start_key_rotation() TO pgkit_maintenance;
