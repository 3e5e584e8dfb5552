-- app.current_org_id: the current definition of this function.
-- First created by sql/0400_security_context.sql, redefined by sql/0800_request_context_bound_to_transaction.sql
-- and sql/0930_authenticated_context.sql (their headers say why).
--   The organization of the verified context (app_private.verified_context), when:
--   - a user token: the user is an active member of it and the user is not soft-deleted (issue 21: a deleted
--     user loses access at once, whatever their token says);
--   - a worker token scoped to that organization.
--   NULL otherwise (no context, a context not verified in this transaction, a queue-scoped worker token).
--   PL/pgSQL (its plans cached per session), not SQL with a SET clause (planned again on every call): it runs
--   once per statement under row-level security.
-- Serves: seed 001 (SET LOCAL org context with connection pooling), seed 000 P1 / "validate RLS policies can't
--         be bypassed", seed 003 §4.1 (pooling), seed 004 #18 (cheap RLS), seed 004 #35 (soft delete).
-- pgkit:after 0400_security_context.sql
-- pgkit:requires app_private.verified_context

CREATE OR REPLACE FUNCTION app.current_org_id()
RETURNS uuid
LANGUAGE plpgsql
STABLE
PARALLEL SAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v record;
BEGIN
  -- An expression, not SELECT ... FROM: a function in FROM runs through the executor and a tuplestore, which
  -- was a third of this function's time (perf profile, docs/security.md "Request context").
  v := app_private.verified_context();
  IF v.org IS NULL THEN
    RETURN NULL;
  ELSIF v.role = 'user' AND v.usr IS NOT NULL THEN
    RETURN (SELECT m.organization_id
            FROM app.memberships m
            JOIN app.users u ON u.id = m.user_id AND u.deleted_at IS NULL
            WHERE m.organization_id = v.org AND m.user_id = v.usr AND m.deleted_at IS NULL);
  ELSIF v.role = 'worker' AND v.scope = 'org' THEN
    RETURN v.org;
  END IF;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION app.current_org_id() IS
  'Organization of the current transaction''s verified context (app.authenticate_context): for a user token when the user is an active, not deleted member of it; for a worker token scoped to it. NULL otherwise.';
GRANT EXECUTE ON FUNCTION app.current_org_id() TO pgkit_app, pgkit_readonly, pgkit_maintenance, pgkit_anon;
