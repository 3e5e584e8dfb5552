-- app.create_organization: the current definition of this function.
-- First created by sql/0460_app_functions.sql.
-- Serves: seed 000 P1 (soft deletes), seed 004 #24, #25, #26, #27, #35.
-- pgkit:after 0460_app_functions.sql

CREATE OR REPLACE FUNCTION app.create_organization(p_name text, p_slug text)
RETURNS uuid
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_user uuid := app.current_user_id();
  v_id   uuid;
BEGIN
  PERFORM app_private.refuse_worker_session('create_organization');
  IF v_user IS NULL OR NOT EXISTS (SELECT 1 FROM app.users u WHERE u.id = v_user AND u.deleted_at IS NULL) THEN
    RAISE EXCEPTION 'create_organization needs a signed-in user in the request context' USING ERRCODE = 'insufficient_privilege';
  END IF;
  INSERT INTO app.organizations (name, slug) VALUES (p_name, p_slug) RETURNING id INTO v_id;
  INSERT INTO app.memberships (organization_id, user_id, role) VALUES (v_id, v_user, 'owner');
  RETURN v_id;
END
$$;
REVOKE ALL ON FUNCTION app.create_organization(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.create_organization(text, text) TO pgkit_app, pgkit_maintenance;
