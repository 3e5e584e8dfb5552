-- app_private.key_material: the current definition of this function.
-- First created by sql/0430_field_encryption.sql, redefined by sql/0840_encryption_keys_bound_to_transaction.sql and
-- sql/1005_encryption_keys_sealed.sql (their headers say why).
-- Serves: seed 000 P1 (field-level encryption; defense in depth), seed 003 §4.1 (pooling).
-- pgkit:after 0430_field_encryption.sql

-- Key material of p_key_id from the keyring supplied to this transaction (app.supply_encryption_keys, sealed for
-- it: sql/1005), verified against the registered check value (as in sql/0430).
CREATE OR REPLACE FUNCTION app_private.key_material(p_key_id text)
RETURNS text
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_raw   text := app_private.supplied_keys();
  v_key   text;
  v_check bytea;
BEGIN
  IF v_raw IS NULL OR v_raw = '' THEN
    RAISE EXCEPTION 'encryption key % was not supplied for this transaction: call app.supply_encryption_keys($1) with the keyring in it', p_key_id
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF v_raw !~ '^\s*\{\s*("[A-Za-z0-9_.-]+"\s*:\s*"[A-Za-z0-9+/=_-]+"(\s*,\s*"[A-Za-z0-9_.-]+"\s*:\s*"[A-Za-z0-9+/=_-]+")*)?\s*\}\s*$' THEN
    RAISE EXCEPTION 'the supplied keyring is not a JSON object of key id to base64 key material'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  v_key := v_raw::jsonb ->> p_key_id;
  IF v_key IS NULL THEN
    RAISE EXCEPTION 'encryption key % was not supplied for this transaction (the keyring has no such key)', p_key_id
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  SELECT k.key_check INTO v_check FROM app_private.encryption_keys k WHERE k.key_id = p_key_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'encryption key % is not registered', p_key_id USING ERRCODE = 'undefined_object';
  END IF;
  IF app_private.key_check_value(p_key_id, v_key) <> v_check THEN
    RAISE EXCEPTION 'the material supplied for encryption key % is not the registered key', p_key_id
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN v_key;
END
$$;
