-- app_private.context_mac: the stamp app.authenticate_context sets next to a verified context.
--   HMAC-SHA256, under the server-side key no login can read (app_private.context_mac_key, sql/0930), of the
--   current transaction's start and the four context values. A client cannot compute it, so a context set by
--   hand, or kept from an earlier transaction on a pooled connection, does not verify.
--   PL/pgSQL, not SQL: a SQL function with a SET clause is planned again on every call, and this one runs for every
--   statement under row-level security (measured: 0.3 ms a call as SQL, docs/security.md).
-- Serves: seed 000 P1 (tenant isolation), seed 001 (request context with connection pooling), seed 004 #18 (cheap RLS).
-- pgkit:after 0930_authenticated_context.sql

CREATE OR REPLACE FUNCTION app_private.context_mac(p_org text, p_user text, p_role text, p_scope text)
RETURNS text
LANGUAGE plpgsql
STABLE
PARALLEL SAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_key bytea;
BEGIN
  SELECT k.key INTO v_key FROM app_private.context_mac_key k;
  RETURN pg_catalog.encode(extensions.hmac(
           pg_catalog.convert_to(
             pg_catalog.concat_ws('/', 'pgkit-context-v1',
                                  (extract(epoch FROM pg_catalog.transaction_timestamp()) * 1000000)::pg_catalog.int8::pg_catalog.text,
                                  coalesce(p_org, ''), coalesce(p_user, ''), coalesce(p_role, ''), coalesce(p_scope, '')),
             'UTF8'),
           v_key, 'sha256'), 'hex');
END
$$;
COMMENT ON FUNCTION app_private.context_mac(text, text, text, text) IS
  'MAC of a request context bound to the current transaction, under app_private.context_mac_key: set by app.authenticate_context, checked by app_private.verified_context.';
REVOKE ALL ON FUNCTION app_private.context_mac(text, text, text, text) FROM PUBLIC;
