-- app.current_user_id: the current definition of this function.
-- First created by sql/0400_security_context.sql, redefined by sql/0800_request_context_bound_to_transaction.sql (their headers say why).
-- Serves: seed 001 (SET LOCAL org context with connection pooling), seed 000 P1 / "validate RLS policies can't
--         be bypassed", seed 003 §4.1 (pooling), seed 004 #18 (cheap RLS).
-- pgkit:after 0400_security_context.sql
-- pgkit:requires app.transaction_stamp

-- Plain SQL with no SET clause (it runs under the caller's search_path), so every operator and type is
-- schema-qualified: a caller's search_path cannot swap one in.
CREATE OR REPLACE FUNCTION app.current_user_id()
RETURNS uuid
LANGUAGE sql
STABLE
PARALLEL SAFE
AS $$
  SELECT CASE
           WHEN s.stamp OPERATOR(pg_catalog.=) s.now_stamp
                AND s.v OPERATOR(pg_catalog.~) '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$'
           THEN s.v::pg_catalog.uuid
         END
  FROM (SELECT pg_catalog.current_setting('app.user_id', true) AS v,
               pg_catalog.current_setting('app.ctx_xact', true) AS stamp,
               app.transaction_stamp()
                 OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) coalesce(pg_catalog.current_setting('app.org_id', true), '')
                 OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) coalesce(pg_catalog.current_setting('app.user_id', true), '') AS now_stamp) s
$$;
COMMENT ON FUNCTION app.current_user_id() IS
  'User of the current transaction (app.user_id set with set_config(..., true), with app.ctx_xact = app.context_stamp(org, user)); NULL when missing, malformed or not set by this transaction.';
GRANT EXECUTE ON FUNCTION app.current_user_id() TO pgkit_app, pgkit_readonly, pgkit_maintenance, pgkit_anon;
