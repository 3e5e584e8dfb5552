-- app_private.keys_seal_key: the key that seals this transaction's field-encryption keys (issue 16 #7).
--   HMAC-SHA256, under the server-side key no login can read (app_private.context_mac_key, sql/0930), of the
--   current transaction's start and the backend's pid: a sealed keyring opens in the transaction that sealed it
--   and nowhere else (not in a later transaction of a pooled server connection, not in another backend).
-- Serves: seed 000 P1 (field-level encryption; defense in depth), seed 003 §4.1 (pooling).
-- pgkit:after 1005_encryption_keys_sealed.sql

CREATE OR REPLACE FUNCTION app_private.keys_seal_key()
RETURNS bytea
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_key bytea;
BEGIN
  SELECT k.key INTO v_key FROM app_private.context_mac_key k;
  RETURN extensions.hmac(
           pg_catalog.convert_to(
             pg_catalog.concat_ws('/', 'pgkit-keys-seal-v1',
                                  (extract(epoch FROM pg_catalog.transaction_timestamp()) * 1000000)::pg_catalog.int8::pg_catalog.text,
                                  pg_catalog.pg_backend_pid()::pg_catalog.text),
             'UTF8'),
           v_key, 'sha256');
END
$$;
COMMENT ON FUNCTION app_private.keys_seal_key() IS
  'Key that seals the field-encryption keyring for the current transaction of this backend (app.supply_encryption_keys, app_private.supplied_keys); derived from app_private.context_mac_key.';
REVOKE ALL ON FUNCTION app_private.keys_seal_key() FROM PUBLIC;
