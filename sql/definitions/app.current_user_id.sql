-- app.current_user_id: the current definition of this function.
-- First created by sql/0400_security_context.sql, redefined by sql/0800_request_context_bound_to_transaction.sql
-- and sql/0930_authenticated_context.sql (their headers say why): the user of the verified context only.
-- PL/pgSQL (its plan cached per session), not SQL with a SET clause (planned again on every call).
-- Serves: seed 001 (SET LOCAL org context with connection pooling), seed 000 P1 / "validate RLS policies can't
--         be bypassed", seed 003 §4.1 (pooling), seed 004 #18 (cheap RLS).
-- pgkit:after 0400_security_context.sql
-- pgkit:requires app_private.verified_context

CREATE OR REPLACE FUNCTION app.current_user_id()
RETURNS uuid
LANGUAGE plpgsql
STABLE
PARALLEL SAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  -- An expression, not a subquery over the function (which goes through the executor and a tuplestore).
  RETURN (app_private.verified_context()).usr;
END
$$;
COMMENT ON FUNCTION app.current_user_id() IS
  'User of the current transaction''s context, when app.authenticate_context verified it in this transaction; NULL otherwise.';
GRANT EXECUTE ON FUNCTION app.current_user_id() TO pgkit_app, pgkit_readonly, pgkit_maintenance, pgkit_anon;
