-- app.context_stamp: the current definition of this function.
-- First created by sql/0800_request_context_bound_to_transaction.sql.
-- Serves: seed 001 (SET LOCAL org context with connection pooling), seed 000 P1 / "validate RLS policies can't
--         be bypassed", seed 003 §4.1 (pooling), seed 004 #18 (cheap RLS).
-- pgkit:after 0400_security_context.sql
-- pgkit:requires app.transaction_stamp

CREATE OR REPLACE FUNCTION app.context_stamp(p_org text, p_user text)
RETURNS text
LANGUAGE sql
STABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT app.transaction_stamp()
         OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) coalesce(p_org, '')
         OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) coalesce(p_user, '')
$$;
COMMENT ON FUNCTION app.context_stamp(text, text) IS
  'Stamp of the request context of the current transaction: its start in microseconds and the organization and user it sets. Set app.ctx_xact to it with set_config(..., true) next to app.org_id and app.user_id.';
GRANT EXECUTE ON FUNCTION app.context_stamp(text, text) TO pgkit_app, pgkit_readonly, pgkit_maintenance, pgkit_anon;
