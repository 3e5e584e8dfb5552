-- app_private.active_key_id: the current definition of this function.
-- First created by sql/0430_field_encryption.sql.
-- Serves: seed 000 P1 (field-level encryption, encrypted_fields/key rotation), validation checklist
--         "confirm encryption key rotation works"; seed 004 #15 (content size limit kept), #37.
-- pgkit:after 0430_field_encryption.sql

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
