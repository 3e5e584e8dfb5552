-- app.current_org_id: the current definition of this function.
-- First created by sql/0400_security_context.sql, redefined by sql/0800_request_context_bound_to_transaction.sql
-- and sql/0930_authenticated_context.sql (their headers say why).
--   The organization of the verified context (app_private.verified_context), when:
--   - a user token: the user is an active member of it and the user is not soft-deleted (issue 21: a deleted
--     user loses access at once, whatever their token says);
--   - a worker token scoped to that organization.
--   NULL otherwise (no context, a context not verified in this transaction, a queue-scoped worker token).
-- Serves: seed 001 (SET LOCAL org context with connection pooling), seed 000 P1 / "validate RLS policies can't
--         be bypassed", seed 003 §4.1 (pooling), seed 004 #18 (cheap RLS), seed 004 #35 (soft delete).
-- pgkit:after 0400_security_context.sql
-- pgkit:requires app_private.verified_context

CREATE OR REPLACE FUNCTION app.current_org_id()
RETURNS uuid
LANGUAGE sql
STABLE
PARALLEL SAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE
           WHEN v.org IS NULL THEN NULL
           WHEN v.role OPERATOR(pg_catalog.=) 'user' AND v.usr IS NOT NULL THEN
             (SELECT m.organization_id
              FROM app.memberships m
              JOIN app.users u ON u.id OPERATOR(pg_catalog.=) m.user_id AND u.deleted_at IS NULL
              WHERE m.organization_id OPERATOR(pg_catalog.=) v.org
                AND m.user_id OPERATOR(pg_catalog.=) v.usr
                AND m.deleted_at IS NULL)
           WHEN v.role OPERATOR(pg_catalog.=) 'worker' AND v.scope OPERATOR(pg_catalog.=) 'org' THEN v.org
         END
  FROM app_private.verified_context() v
$$;
COMMENT ON FUNCTION app.current_org_id() IS
  'Organization of the current transaction''s verified context (app.authenticate_context): for a user token when the user is an active, not deleted member of it; for a worker token scoped to it. NULL otherwise.';
GRANT EXECUTE ON FUNCTION app.current_org_id() TO pgkit_app, pgkit_readonly, pgkit_maintenance, pgkit_anon;
