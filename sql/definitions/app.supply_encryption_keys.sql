-- app.supply_encryption_keys: hands the field-encryption keyring to the current transaction (issue 16 #7).
--   Before, the keyring sat in the setting app.enc_keys for the whole transaction, so any SQL in a keyed
--   transaction (an injected statement) read every tenant's key material with current_setting('app.enc_keys').
--   Now the caller passes the keyring here, as a bind parameter: it is sealed (AES-256-CBC, then HMAC-SHA256 over
--   IV and ciphertext) under app_private.keys_seal_key(), which only the owner's functions can compute, and kept
--   in app.enc_keys_sealed for this transaction. app_private.supplied_keys() (called by the definer functions that
--   encrypt and decrypt) opens it; a client reading the setting gets ciphertext, and in any other transaction or
--   backend it opens to nothing.
-- Serves: seed 000 P1 (field-level encryption; defense in depth), seed 003 §4.1 (pooling).
-- pgkit:after 1005_encryption_keys_sealed.sql
-- pgkit:requires app_private.keys_seal_key

CREATE OR REPLACE FUNCTION app.supply_encryption_keys(p_keys text)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_seal bytea;
  v_iv   bytea := extensions.gen_random_bytes(16);
  v_ct   bytea;
BEGIN
  -- A pattern check before anything parses it, so no error message echoes key material.
  IF p_keys IS NULL OR p_keys !~ '^\s*\{\s*("[A-Za-z0-9_.-]+"\s*:\s*"[A-Za-z0-9+/=_-]+"(\s*,\s*"[A-Za-z0-9_.-]+"\s*:\s*"[A-Za-z0-9+/=_-]+")*)?\s*\}\s*$' THEN
    RAISE EXCEPTION 'the keyring is not a JSON object of key id to base64 key material'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  v_seal := app_private.keys_seal_key();
  v_ct := extensions.encrypt_iv(pg_catalog.convert_to(p_keys, 'UTF8'), v_seal, v_iv, 'aes-cbc/pad:pkcs');
  PERFORM pg_catalog.set_config('app.enc_keys_sealed',
            pg_catalog.encode(v_iv OPERATOR(pg_catalog.||) extensions.hmac(v_iv OPERATOR(pg_catalog.||) v_ct, v_seal, 'sha256') OPERATOR(pg_catalog.||) v_ct, 'hex'),
            true);
END
$$;
COMMENT ON FUNCTION app.supply_encryption_keys(text) IS
  'Hands the field-encryption keyring (JSON {"<key id>": "<base64>"}, a bind parameter) to the current transaction, sealed: no SQL can read it back; only the encrypting and decrypting functions open it, in this transaction only.';
REVOKE ALL ON FUNCTION app.supply_encryption_keys(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.supply_encryption_keys(text) TO pgkit_app, pgkit_maintenance;
