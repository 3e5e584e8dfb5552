-- app_private.supplied_keys: the field-encryption keyring supplied to the current transaction (issue 16 #7).
--   Opens app.enc_keys_sealed (app.supply_encryption_keys) with this transaction's seal key; NULL when nothing
--   was supplied, or when the sealed value is another transaction's or backend's (left on a pooled server
--   connection) or was changed (the HMAC does not verify). Superuser sessions may also give the plain keyring in
--   app.enc_keys (scripts and tests; the pooler refuses superusers, so their sessions are never shared, and a
--   superuser reads everything anyway).
-- Serves: seed 000 P1 (field-level encryption; defense in depth), seed 003 §4.1 (pooling).
-- pgkit:after 1005_encryption_keys_sealed.sql
-- pgkit:requires app_private.keys_seal_key

CREATE OR REPLACE FUNCTION app_private.supplied_keys()
RETURNS text
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_sealed text := pg_catalog.current_setting('app.enc_keys_sealed', true);
  v_raw    bytea;
  v_seal   bytea;
BEGIN
  IF v_sealed IS NULL OR v_sealed = '' THEN
    IF (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) SESSION_USER) THEN
      RETURN NULLIF(pg_catalog.current_setting('app.enc_keys', true), '');
    END IF;
    RETURN NULL;
  END IF;
  IF v_sealed !~ '^([0-9a-f]{2}){64,}$' THEN
    RETURN NULL;
  END IF;
  v_raw := pg_catalog.decode(v_sealed, 'hex');
  v_seal := app_private.keys_seal_key();
  IF extensions.hmac(pg_catalog.substr(v_raw, 1, 16) OPERATOR(pg_catalog.||) pg_catalog.substr(v_raw, 49), v_seal, 'sha256')
     OPERATOR(pg_catalog.<>) pg_catalog.substr(v_raw, 17, 32) THEN
    RETURN NULL; -- another transaction's or backend's, or tampered with
  END IF;
  RETURN pg_catalog.convert_from(
           extensions.decrypt_iv(pg_catalog.substr(v_raw, 49), v_seal, pg_catalog.substr(v_raw, 1, 16), 'aes-cbc/pad:pkcs'),
           'UTF8');
END
$$;
COMMENT ON FUNCTION app_private.supplied_keys() IS
  'The keyring app.supply_encryption_keys sealed for the current transaction (NULL if none, or not this transaction''s); for the encrypting and decrypting functions only.';
REVOKE ALL ON FUNCTION app_private.supplied_keys() FROM PUBLIC;
