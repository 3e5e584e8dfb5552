-- app_private.key_material: the current definition of this function.
-- First created by sql/0430_field_encryption.sql, redefined by sql/0840_encryption_keys_bound_to_transaction.sql (their headers say why).
-- Serves: seed 000 P1 (field-level encryption; defense in depth), seed 003 §4.1 (pooling).
-- pgkit:after 0430_field_encryption.sql
-- pgkit:requires app.keys_stamp

-- Key material of p_key_id from this transaction's app.enc_keys, verified against the registered check value
-- (as in sql/0430) and now also against this transaction's stamp.
CREATE OR REPLACE FUNCTION app_private.key_material(p_key_id text)
RETURNS text
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_raw   text := pg_catalog.current_setting('app.enc_keys', true);
  v_key   text;
  v_check bytea;
BEGIN
  IF v_raw IS NULL OR v_raw = '' THEN
    RAISE EXCEPTION 'encryption key % was not supplied for this transaction (app.enc_keys)', p_key_id
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF v_raw !~ '^\s*\{\s*("[A-Za-z0-9_.-]+"\s*:\s*"[A-Za-z0-9+/=_-]+"(\s*,\s*"[A-Za-z0-9_.-]+"\s*:\s*"[A-Za-z0-9+/=_-]+")*)?\s*\}\s*$' THEN
    RAISE EXCEPTION 'app.enc_keys is not a JSON object of key id to base64 key material'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  -- Bound to its transaction (sql/0840): material left on a pooled server connection by an earlier
  -- transaction (a session-level SET) is not used. Superusers are exempt: the pooler refuses them, so their
  -- sessions are never shared (scripts and tests set the keys once per session).
  IF pg_catalog.current_setting('app.enc_keys_xact', true) IS DISTINCT FROM app.keys_stamp(v_raw)
     AND NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) SESSION_USER) THEN
    RAISE EXCEPTION 'encryption key % was not supplied for this transaction: set app.enc_keys and app.enc_keys_xact = app.keys_stamp(<the same keys>) with set_config(..., true)', p_key_id
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  v_key := v_raw::jsonb ->> p_key_id;
  IF v_key IS NULL THEN
    RAISE EXCEPTION 'encryption key % was not supplied for this transaction (app.enc_keys)', p_key_id
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
