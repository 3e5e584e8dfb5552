-- app.accept_membership(invitation): the invited user, in their own request context, accepts an invitation of
-- app.add_member: the membership is created (or a soft-deleted one restored) with the invited role. An invitation
-- that does not exist, was already accepted, or is someone else's gets the same error.
-- Serves: seed 000 P1 (tenant isolation); issue 16 #6 (consent).
-- pgkit:after 0920_membership_invitations.sql

CREATE OR REPLACE FUNCTION app.accept_membership(p_invitation uuid)
RETURNS uuid
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_user uuid := app.current_user_id();
  v_inv  app.membership_invitations;
  v_id   uuid;
BEGIN
  PERFORM app_private.refuse_worker_session('accept_membership');
  SELECT * INTO v_inv FROM app.membership_invitations i
  WHERE i.id = p_invitation AND i.user_id = v_user AND i.accepted_at IS NULL
  FOR UPDATE;
  IF v_user IS NULL OR NOT FOUND THEN
    RAISE EXCEPTION 'no open invitation % for the current user', p_invitation USING ERRCODE = 'no_data_found';
  END IF;
  INSERT INTO app.memberships (organization_id, user_id, role) VALUES (v_inv.organization_id, v_user, v_inv.role)
  ON CONFLICT (organization_id, user_id) DO UPDATE SET role = EXCLUDED.role, deleted_at = NULL, deleted_by = NULL
  RETURNING id INTO v_id;
  UPDATE app.membership_invitations i SET accepted_at = pg_catalog.now()
  WHERE i.organization_id = v_inv.organization_id AND i.user_id = v_user AND i.accepted_at IS NULL;
  RETURN v_id;
END
$$;
REVOKE ALL ON FUNCTION app.accept_membership(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.accept_membership(uuid) TO pgkit_app;
