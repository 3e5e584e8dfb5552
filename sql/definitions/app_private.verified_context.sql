-- app_private.verified_context: the request context of the current transaction when app.authenticate_context
--   set it (its MAC verifies), all NULL otherwise. The only reader of the context settings; app.current_org_id()
--   and app.current_user_id() read it.
--   PL/pgSQL so that it can be created before the key table (sql/0930) exists on a fresh database: until a
--   context is authenticated, app.ctx_mac is empty and the key table is not read.
-- Serves: seed 000 P1 (tenant isolation; "validate RLS policies can't be bypassed"), seed 001 (request context
--         with connection pooling), seed 004 #18 (cheap RLS: one MAC per statement, in the policies' InitPlans).
-- pgkit:after 0400_security_context.sql

CREATE OR REPLACE FUNCTION app_private.verified_context(OUT org uuid, OUT usr uuid, OUT role text, OUT scope text)
RETURNS record
LANGUAGE plpgsql
STABLE
PARALLEL SAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_mac   text := pg_catalog.current_setting('app.ctx_mac', true);
  v_org   text := coalesce(pg_catalog.current_setting('app.org_id', true), '');
  v_user  text := coalesce(pg_catalog.current_setting('app.user_id', true), '');
  v_role  text := coalesce(pg_catalog.current_setting('app.ctx_role', true), '');
  v_scope text := coalesce(pg_catalog.current_setting('app.ctx_scope', true), '');
BEGIN
  IF v_mac IS NULL OR v_mac = '' OR v_role = '' THEN
    RETURN;
  END IF;
  IF v_mac IS DISTINCT FROM app_private.context_mac(v_org, v_user, v_role, v_scope) THEN
    RETURN;
  END IF;
  -- Verified values are what app.authenticate_context wrote: a lower-case uuid or ''. No pattern test (two of
  -- them were a third of this function's time).
  org   := NULLIF(v_org, '')::uuid;
  usr   := NULLIF(v_user, '')::uuid;
  role  := v_role;
  scope := nullif(v_scope, '');
END
$$;
COMMENT ON FUNCTION app_private.verified_context() IS
  'The current transaction''s request context (organization, user, role user|worker, scope org|queue) when app.authenticate_context set it and its MAC verifies; all NULL otherwise.';
REVOKE ALL ON FUNCTION app_private.verified_context() FROM PUBLIC;
