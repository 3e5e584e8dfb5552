-- app_private.erase_user: the current definition of this function.
-- First created by sql/0470_gdpr_erasure.sql.
-- Serves: seed 000 P1, seed 004 #35, seed 003 §5.3.
-- pgkit:after 0470_gdpr_erasure.sql

CREATE OR REPLACE FUNCTION app_private.erase_user(p_user_id uuid, p_reason text)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_counts jsonb := '{}';
  v_n      integer;
  v_uid    text := p_user_id::text;
BEGIN
  IF p_reason IS NULL OR pg_catalog.btrim(p_reason) = '' THEN
    RAISE EXCEPTION 'erase_user needs a reason (the request reference)' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM app.users u WHERE u.id = p_user_id) THEN
    RAISE EXCEPTION 'user % does not exist', p_user_id USING ERRCODE = 'no_data_found';
  END IF;

  DELETE FROM app.chat_messages WHERE user_id = p_user_id;     GET DIAGNOSTICS v_n = ROW_COUNT; v_counts := v_counts || pg_catalog.jsonb_build_object('chat_messages', v_n);
  DELETE FROM app.chat_sessions WHERE user_id = p_user_id;     GET DIAGNOSTICS v_n = ROW_COUNT; v_counts := v_counts || pg_catalog.jsonb_build_object('chat_sessions', v_n);
  DELETE FROM app.highlights WHERE user_id = p_user_id;        GET DIAGNOSTICS v_n = ROW_COUNT; v_counts := v_counts || pg_catalog.jsonb_build_object('highlights', v_n);
  DELETE FROM app.planning_notes WHERE user_id = p_user_id;    GET DIAGNOSTICS v_n = ROW_COUNT; v_counts := v_counts || pg_catalog.jsonb_build_object('planning_notes', v_n);
  DELETE FROM app.user_events WHERE user_id = p_user_id;       GET DIAGNOSTICS v_n = ROW_COUNT; v_counts := v_counts || pg_catalog.jsonb_build_object('user_events', v_n);
  DELETE FROM app.engagement_events WHERE user_id = p_user_id; GET DIAGNOSTICS v_n = ROW_COUNT; v_counts := v_counts || pg_catalog.jsonb_build_object('engagement_events', v_n);
  DELETE FROM app.memberships WHERE user_id = p_user_id;       GET DIAGNOSTICS v_n = ROW_COUNT; v_counts := v_counts || pg_catalog.jsonb_build_object('memberships', v_n);
  UPDATE app.token_usage SET user_id = NULL WHERE user_id = p_user_id; GET DIAGNOSTICS v_n = ROW_COUNT; v_counts := v_counts || pg_catalog.jsonb_build_object('token_usage_detached', v_n);
  DELETE FROM ops.logs WHERE user_id = p_user_id;              GET DIAGNOSTICS v_n = ROW_COUNT; v_counts := v_counts || pg_catalog.jsonb_build_object('logs', v_n);
  DELETE FROM app.users WHERE id = p_user_id;                  GET DIAGNOSTICS v_n = ROW_COUNT; v_counts := v_counts || pg_catalog.jsonb_build_object('users', v_n);

  UPDATE audit.audit_logs a
     SET old_data = NULL, new_data = NULL,
         metadata = a.metadata || pg_catalog.jsonb_build_object('erased', true)
   WHERE (a.table_name = 'app.users' AND a.record_id = v_uid)
      OR a.old_data ->> 'user_id' = v_uid
      OR a.new_data ->> 'user_id' = v_uid;
  GET DIAGNOSTICS v_n = ROW_COUNT;
  v_counts := v_counts || pg_catalog.jsonb_build_object('audit_rows_scrubbed', v_n);

  INSERT INTO audit.audit_logs (organization_id, user_id, actor_kind, action, table_name, record_id, metadata)
  VALUES (NULL, NULL, 'service', 'gdpr.erasure', 'app.users', v_uid,
          pg_catalog.jsonb_build_object('reason', p_reason, 'counts', v_counts, 'db_user', SESSION_USER::text));
  INSERT INTO ops.logs (level, event_type, message, metadata)
  VALUES ('info', 'gdpr_erasure', 'user erased on request',
          pg_catalog.jsonb_build_object('subject', v_uid, 'reason', p_reason, 'counts', v_counts));
  RETURN v_counts;
END
$$;
REVOKE ALL ON FUNCTION app_private.erase_user(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_private.erase_user(uuid, text) TO pgkit_maintenance;
