-- app.write_log: the current definition of this function.
-- First created by sql/0460_app_functions.sql.
--   A session id must name one of the caller's own chat sessions (organization and user of the verified context):
--   another tenant's session, or a colleague's, or one that exists nowhere, gets the same 22023, so the line never
--   carries a session that is not the caller's and the answer tells nothing (issue 16, noticed after #5).
--   PL/pgSQL, not SQL: a SQL function with a SET clause is parsed and planned again in every statement.
-- Serves: seed 000 P1 (soft deletes), seed 004 #24, #25, #26, #27, #35.
-- pgkit:after 0460_app_functions.sql
-- pgkit:requires app.current_user_id
-- pgkit:requires app.current_org_id

CREATE OR REPLACE FUNCTION app.write_log(p_level ops.log_level, p_event_type text, p_message text,
                                         p_metadata jsonb DEFAULT '{}', p_session_id uuid DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_org  uuid := app.current_org_id();
  v_user uuid := app.current_user_id();
BEGIN
  IF p_session_id IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM app.chat_sessions s
       WHERE s.id = p_session_id AND s.organization_id = v_org AND s.user_id = v_user) THEN
    RAISE EXCEPTION 'write_log: session % is not one of your chat sessions', p_session_id
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Pass the id of a chat session of the signed-in user, or NULL.';
  END IF;
  INSERT INTO ops.logs (level, event_type, message, organization_id, user_id, session_id, metadata)
  VALUES (p_level, p_event_type, p_message, v_org, v_user, p_session_id, coalesce(p_metadata, '{}'));
END
$$;
REVOKE ALL ON FUNCTION app.write_log(ops.log_level, text, text, jsonb, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.write_log(ops.log_level, text, text, jsonb, uuid) TO pgkit_app, pgkit_maintenance;
