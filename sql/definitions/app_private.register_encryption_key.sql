-- app_private.register_encryption_key: the current definition of this function.
-- First created by sql/0430_field_encryption.sql.
-- Serves: seed 000 P1 (field-level encryption, encrypted_fields/key rotation), validation checklist
--         "confirm encryption key rotation works"; seed 004 #15 (content size limit kept), #37.
-- pgkit:after 0430_field_encryption.sql

-- Key management (granted to pgkit_maintenance in 0440): the material must have been supplied to this transaction
-- with app.supply_encryption_keys (sealed for it, sql/1005).
CREATE OR REPLACE FUNCTION app_private.register_encryption_key(p_key_id text)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_raw   text := app_private.supplied_keys();
  v_key   text;
  v_check bytea;
BEGIN
  IF v_raw IS NULL OR v_raw !~ '^\s*\{\s*("[A-Za-z0-9_.-]+"\s*:\s*"[A-Za-z0-9+/=_-]+"(\s*,\s*"[A-Za-z0-9_.-]+"\s*:\s*"[A-Za-z0-9+/=_-]+")*)?\s*\}\s*$' THEN
    RAISE EXCEPTION 'supply the key material with app.supply_encryption_keys($1) (a JSON object of key id to base64) to register key %', p_key_id
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
GRANT EXECUTE ON FUNCTION app_private.register_encryption_key(text) TO pgkit_maintenance;
