-- app.write_log: the current definition of this function.
-- First created by sql/0460_app_functions.sql.
-- Serves: seed 000 P1 (soft deletes), seed 004 #24, #25, #26, #27, #35.
-- pgkit:after 0460_app_functions.sql
-- pgkit:requires app.current_user_id
-- pgkit:requires app.current_org_id

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
REVOKE ALL ON FUNCTION app.write_log(ops.log_level, text, text, jsonb, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.write_log(ops.log_level, text, text, jsonb, uuid) TO pgkit_app, pgkit_maintenance;
