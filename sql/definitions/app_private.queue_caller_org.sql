-- app_private.queue_caller_org: which organizations' queue items the caller of a queue function may touch.
--   The queue functions are granted to the worker login only (issue 16 #1). A worker session must present a
--   worker token (app.authenticate_context): scope "queue" may touch every organization's items (NULL here),
--   scope "org" only its organization's. Anything else from a worker session raises. Sessions of the platform
--   (superuser, owner, maintenance: not worker logins) are not restricted: their grants already are.
-- Serves: seed 001 (queue processing with many workers), seed 000 P1 (tenant isolation).
-- pgkit:after 0930_authenticated_context.sql
-- pgkit:requires app_private.can_set_role

CREATE OR REPLACE FUNCTION app_private.queue_caller_org(p_function text)
RETURNS uuid
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_ctx record;
BEGIN
  IF (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = SESSION_USER)
     OR NOT app_private.can_set_role(SESSION_USER, 'pgkit_worker') THEN  -- not ADMIN-only membership (16+)
    RETURN NULL;
  END IF;
  v_ctx := app_private.verified_context();
  IF v_ctx.role IS DISTINCT FROM 'worker' THEN
    RAISE EXCEPTION '%: needs a worker token (SELECT app.authenticate_context($1) with scope "queue" or "org")', p_function
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF v_ctx.scope = 'queue' THEN
    RETURN NULL;
  END IF;
  RETURN v_ctx.org;
END
$$;
COMMENT ON FUNCTION app_private.queue_caller_org(text) IS
  'NULL when the caller may touch every organization''s queue items (queue-scoped worker token, or a platform session); the organization of an org-scoped worker token; raises for a worker session without a worker token.';
REVOKE ALL ON FUNCTION app_private.queue_caller_org(text) FROM PUBLIC;
