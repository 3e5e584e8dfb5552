-- app.soft_delete: the current definition of this function.
-- First created by sql/0460_app_functions.sql.
-- Serves: seed 000 P1 (soft deletes), seed 004 #24, #25, #26, #27, #35.
-- pgkit:after 0460_app_functions.sql

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
  PERFORM app_private.refuse_worker_session('soft_delete');
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
REVOKE ALL ON FUNCTION app.soft_delete(text, uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.soft_delete(text, uuid, text) TO pgkit_app, pgkit_maintenance;
