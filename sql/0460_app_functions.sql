-- 0460: the SECURITY DEFINER entry points the application role calls instead of holding the privilege.
-- Every one: owned by pgkit_owner, search_path pinned to pg_catalog, pg_temp, everything schema-qualified,
-- EXECUTE revoked from PUBLIC and granted by name, and tenant scope enforced inside from the request
-- context (a NULL context does nothing and returns false/NULL, never all rows).
--   app.register_user(email, display_name, timezone)  sign-up; the app has no INSERT on users (seed 004 #27),
--                                                      blank e-mail refused (seed 004 #25)
--   app.create_organization(name, slug)               new tenant + owner membership for the current user
--   app.add_member(user_id, role)                      owners/admins of the current organization only
--   app.soft_delete(table, id [, reason])              sets deleted_at/deleted_by on an own-org (own-user
--                                                      where personal) row; policies then hide it
--   app.write_log(level, event_type, message, ...)     the only way the app writes ops.logs (seed 004 #24)
-- Serves: seed 000 P1 (soft deletes), seed 004 #24, #25, #26, #27, #35.

CREATE OR REPLACE FUNCTION app.register_user(p_email text, p_display_name text DEFAULT NULL, p_timezone text DEFAULT 'UTC')
RETURNS uuid
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_id uuid;
BEGIN
  IF p_email IS NULL OR pg_catalog.btrim(p_email) = '' THEN
    RAISE EXCEPTION 'email cannot be empty' USING ERRCODE = 'check_violation', CONSTRAINT = 'users_email_check';
  END IF;
  INSERT INTO app.users (email, display_name, timezone)
  VALUES (pg_catalog.btrim(p_email), p_display_name, coalesce(p_timezone, 'UTC'))
  RETURNING id INTO v_id;
  RETURN v_id;
END
$$;

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
  IF v_user IS NULL OR NOT EXISTS (SELECT 1 FROM app.users u WHERE u.id = v_user AND u.deleted_at IS NULL) THEN
    RAISE EXCEPTION 'create_organization needs a signed-in user in the request context' USING ERRCODE = 'insufficient_privilege';
  END IF;
  INSERT INTO app.organizations (name, slug) VALUES (p_name, p_slug) RETURNING id INTO v_id;
  INSERT INTO app.memberships (organization_id, user_id, role) VALUES (v_id, v_user, 'owner');
  RETURN v_id;
END
$$;

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

-- Tables the app may soft-delete in, and whether a row belongs to one user (then only that user may).
CREATE OR REPLACE FUNCTION app.soft_delete(p_table text, p_id uuid, p_reason text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_org  uuid := app.current_org_id();
  v_user uuid := app.current_user_id();
  v_personal boolean;
  v_n integer;
BEGIN
  v_personal := CASE p_table
    WHEN 'projects' THEN false WHEN 'episodes' THEN false WHEN 'blocks' THEN false
    WHEN 'agent_memory' THEN false WHEN 'derived_insights' THEN false
    WHEN 'planning_notes' THEN true WHEN 'highlights' THEN true
    WHEN 'chat_sessions' THEN true WHEN 'chat_messages' THEN true
  END;
  IF v_personal IS NULL THEN
    RAISE EXCEPTION 'soft_delete: % is not a soft-deletable table', p_table USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF v_org IS NULL OR v_user IS NULL THEN
    RETURN false;
  END IF;
  EXECUTE format('UPDATE app.%I SET deleted_at = pg_catalog.now(), deleted_by = $3%s '
                 'WHERE id = $1 AND organization_id = $2 AND deleted_at IS NULL%s',
                 p_table,
                 CASE WHEN p_table = 'chat_messages' THEN ', deleted_reason = $4' ELSE '' END,
                 CASE WHEN v_personal THEN ' AND user_id = $3' ELSE '' END)
    USING p_id, v_org, v_user, p_reason;
  GET DIAGNOSTICS v_n = ROW_COUNT;
  RETURN v_n = 1;
END
$$;

CREATE OR REPLACE FUNCTION app.write_log(p_level ops.log_level, p_event_type text, p_message text,
                                         p_metadata jsonb DEFAULT '{}', p_session_id uuid DEFAULT NULL)
RETURNS void
LANGUAGE sql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  INSERT INTO ops.logs (level, event_type, message, organization_id, user_id, session_id, metadata)
  VALUES (p_level, p_event_type, p_message, app.current_org_id(), app.current_user_id(), p_session_id,
          coalesce(p_metadata, '{}'))
$$;

REVOKE ALL ON FUNCTION app.register_user(text, text, text), app.create_organization(text, text),
  app.add_member(uuid, app.membership_role), app.soft_delete(text, uuid, text),
  app.write_log(ops.log_level, text, text, jsonb, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.register_user(text, text, text), app.create_organization(text, text),
  app.add_member(uuid, app.membership_role), app.soft_delete(text, uuid, text),
  app.write_log(ops.log_level, text, text, jsonb, uuid) TO pgkit_app, pgkit_maintenance;
