-- app.keys_stamp: the current definition of this function.
-- First created by sql/0840_encryption_keys_bound_to_transaction.sql.
-- Serves: seed 000 P1 (field-level encryption; defense in depth), seed 003 §4.1 (pooling).
-- pgkit:after 0420_tenant_consistency.sql
-- pgkit:requires app.transaction_stamp

CREATE OR REPLACE FUNCTION app.keys_stamp(p_keys text)
RETURNS text
LANGUAGE sql
STABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT app.transaction_stamp()
         OPERATOR(pg_catalog.||) '/'
         OPERATOR(pg_catalog.||) pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(coalesce(p_keys, ''), 'UTF8')), 'hex')
$$;
COMMENT ON FUNCTION app.keys_stamp(text) IS
  'Stamp of the encryption keys supplied in the current transaction: set app.enc_keys_xact to app.keys_stamp(<the app.enc_keys value>) with set_config(..., true).';
REVOKE EXECUTE ON FUNCTION app.keys_stamp(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.keys_stamp(text) TO pgkit_app, pgkit_maintenance, pgkit_owner;
