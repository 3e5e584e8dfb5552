-- app.add_member: the current definition of this function.
-- First created by sql/0460_app_functions.sql.
-- Serves: seed 000 P1 (soft deletes), seed 004 #24, #25, #26, #27, #35.
-- pgkit:after 0460_app_functions.sql

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
  IF v_org IS NULL OR NOT EXISTS (
       SELECT 1 FROM app.memberships m
       WHERE m.organization_id = v_org AND m.user_id = app.current_user_id()
         AND m.role IN ('owner', 'admin') AND m.deleted_at IS NULL) THEN
    RAISE EXCEPTION 'only an owner or admin of the current organization can add members' USING ERRCODE = 'insufficient_privilege';
  END IF;
  INSERT INTO app.memberships (organization_id, user_id, role) VALUES (v_org, p_user_id, p_role)
  ON CONFLICT (organization_id, user_id) DO UPDATE SET role = EXCLUDED.role, deleted_at = NULL, deleted_by = NULL
  RETURNING id INTO v_id;
  RETURN v_id;
END
$$;
REVOKE ALL ON FUNCTION app.add_member(uuid, app.membership_role) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.add_member(uuid, app.membership_role) TO pgkit_app, pgkit_maintenance;
