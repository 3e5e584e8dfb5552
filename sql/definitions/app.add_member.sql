-- app.add_member: the current definition of this function.
-- First created by sql/0460_app_functions.sql.
-- Serves: seed 000 P1 (soft deletes), seed 004 #24, #25, #26, #27, #35.
-- pgkit:after 0920_membership_invitations.sql

-- Invites a user to the current organization (issue 16 #6: no membership without the user's consent, see
-- app.accept_membership). Only an owner or admin of the current organization may. Returns the invitation's id;
-- for a user id that does not exist it returns a fresh id and records nothing, so the answer says nothing about
-- which ids exist (issue 16 #5).
CREATE OR REPLACE FUNCTION app.add_member(p_user_id uuid, p_role app.membership_role DEFAULT 'member')
RETURNS uuid
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_org uuid := app.current_org_id();
  v_id  uuid;
BEGIN
  PERFORM app_private.refuse_worker_session('add_member');
  IF v_org IS NULL OR NOT EXISTS (
       SELECT 1 FROM app.memberships m
       WHERE m.organization_id = v_org AND m.user_id = app.current_user_id()
         AND m.role IN ('owner', 'admin') AND m.deleted_at IS NULL) THEN
    RAISE EXCEPTION 'only an owner or admin of the current organization can add members' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF p_user_id IS NULL OR NOT EXISTS (SELECT 1 FROM app.users u WHERE u.id = p_user_id AND u.deleted_at IS NULL) THEN
    RETURN extensions.gen_random_uuid();
  END IF;
  UPDATE app.membership_invitations i SET role = p_role, invited_by = app.current_user_id()
  WHERE i.organization_id = v_org AND i.user_id = p_user_id AND i.accepted_at IS NULL
  RETURNING i.id INTO v_id;
  IF v_id IS NULL THEN
    INSERT INTO app.membership_invitations (organization_id, user_id, role, invited_by)
    VALUES (v_org, p_user_id, p_role, app.current_user_id())
    RETURNING id INTO v_id;
  END IF;
  RETURN v_id;
END
$$;
REVOKE ALL ON FUNCTION app.add_member(uuid, app.membership_role) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.add_member(uuid, app.membership_role) TO pgkit_app, pgkit_maintenance;
