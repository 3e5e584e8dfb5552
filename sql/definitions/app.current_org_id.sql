-- app.current_org_id: the current definition of this function.
-- First created by sql/0400_security_context.sql, redefined by sql/0800_request_context_bound_to_transaction.sql (their headers say why).
-- Serves: seed 001 (SET LOCAL org context with connection pooling), seed 000 P1 / "validate RLS policies can't
--         be bypassed", seed 003 §4.1 (pooling), seed 004 #18 (cheap RLS); issue 21 #2 (a soft-deleted user is
--         no member of anything).
-- pgkit:after 0400_security_context.sql
-- pgkit:requires app.current_user_id
-- pgkit:requires app.transaction_stamp

CREATE OR REPLACE FUNCTION app.current_org_id()
RETURNS uuid
LANGUAGE sql
STABLE
PARALLEL SAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE
           WHEN c.org IS NULL THEN NULL
           WHEN c.usr IS NOT NULL THEN
             (SELECT m.organization_id FROM app.memberships m
              WHERE m.organization_id = c.org AND m.user_id = c.usr AND m.deleted_at IS NULL
                -- A soft-deleted user loses access at once, whatever its token says (issue 21 #2).
                AND EXISTS (SELECT 1 FROM app.users u WHERE u.id = c.usr AND u.deleted_at IS NULL))
           WHEN pg_catalog.pg_has_role(SESSION_USER, 'pgkit_worker', 'MEMBER') THEN c.org
         END
  FROM (SELECT CASE
                 WHEN s.stamp OPERATOR(pg_catalog.=) s.now_stamp
                      AND s.v OPERATOR(pg_catalog.~) '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$'
                 THEN s.v::pg_catalog.uuid
               END AS org,
               app.current_user_id() AS usr
        FROM (SELECT pg_catalog.current_setting('app.org_id', true) AS v,
                     pg_catalog.current_setting('app.ctx_xact', true) AS stamp,
                     app.transaction_stamp()
                 OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) coalesce(pg_catalog.current_setting('app.org_id', true), '')
                 OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) coalesce(pg_catalog.current_setting('app.user_id', true), '') AS now_stamp) s) c
$$;
COMMENT ON FUNCTION app.current_org_id() IS
  'Organization of the current transaction (app.org_id set with set_config(..., true), with app.ctx_xact = app.context_stamp(org, user)) when app.user_id is an active (not soft-deleted) member of it (or, without a user, for a pgkit_worker login); NULL otherwise, or when missing, malformed or not set by this transaction.';
GRANT EXECUTE ON FUNCTION app.current_org_id() TO pgkit_app, pgkit_readonly, pgkit_maintenance, pgkit_anon;
