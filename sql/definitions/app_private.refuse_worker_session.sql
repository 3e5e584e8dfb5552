-- app_private.refuse_worker_session: raises when the session is the queue workers' login (issue 16 #11, a
--   narrower worker role). The worker login is a member of pgkit_app for the tables it writes under its
--   organization's context, so it inherits EXECUTE on the app's functions; the user-facing ones (creating
--   organizations, memberships, soft deletes) call this first. Superuser sessions pass (the platform).
-- Serves: seed 003 §3.4 (roles for access levels), seed 000 P1 (least privilege).
-- pgkit:after 0400_security_context.sql
-- pgkit:requires app_private.can_set_role

CREATE OR REPLACE FUNCTION app_private.refuse_worker_session(p_function text)
RETURNS void
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  -- The worker login is the one that may SET ROLE pgkit_worker: from 16 on the admin that created the group
  -- holds an ADMIN-only membership, which pg_has_role(..., 'MEMBER') would count.
  IF app_private.can_set_role(SESSION_USER, 'pgkit_worker')
     AND NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = SESSION_USER) THEN
    RAISE EXCEPTION '%: not for the worker login (it acts for organizations, not for people)', p_function
      USING ERRCODE = 'insufficient_privilege';
  END IF;
END
$$;
COMMENT ON FUNCTION app_private.refuse_worker_session(text) IS
  'Raises insufficient_privilege in a worker-login session: the user-facing functions call it first.';
REVOKE ALL ON FUNCTION app_private.refuse_worker_session(text) FROM PUBLIC;
