-- app.record_template_use(p_template_ids): records that a signed-in user's lookup returned these templates
-- (issue 17 #4): one row each in app_private.template_use_deltas, folded into usage_count/last_used_at every
-- minute (app_private.fold_template_use). Only templates the caller may read count (enabled, not deleted, a user
-- in the request context: the question_templates read policy); others are ignored. At most 100 ids per call.
-- Returns how many were recorded. SECURITY DEFINER: the app has no privilege on app_private.
-- Serves: seed 002 #5b, Week 1 (top templates by usage), Month 1 (usage review).
-- pgkit:after 1002_template_usage.sql

CREATE OR REPLACE FUNCTION app.record_template_use(p_template_ids uuid[])
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_n integer;
BEGIN
  IF pg_catalog.cardinality(p_template_ids) > 100 THEN
    RAISE EXCEPTION 'record_template_use: at most 100 template ids per call, got %', pg_catalog.cardinality(p_template_ids)
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF app.current_user_id() IS NULL THEN
    RETURN 0;
  END IF;
  INSERT INTO app_private.template_use_deltas (template_id)
  SELECT t.id FROM app.question_templates t
  WHERE t.id OPERATOR(pg_catalog.=) ANY (p_template_ids) AND t.enabled AND t.deleted_at IS NULL;
  GET DIAGNOSTICS v_n = ROW_COUNT;
  RETURN v_n;
END
$$;
COMMENT ON FUNCTION app.record_template_use(uuid[]) IS
  'Records a lookup of these templates (usage_count/last_used_at, folded every minute); issue 17 #4.';
REVOKE ALL ON FUNCTION app.record_template_use(uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.record_template_use(uuid[]) TO pgkit_app;
