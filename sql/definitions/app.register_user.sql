-- app.register_user: the current definition of this function.
-- First created by sql/0460_app_functions.sql.
-- Serves: seed 000 P1 (soft deletes), seed 004 #24, #25, #26, #27, #35.
-- pgkit:after 0460_app_functions.sql

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
-- Not for the app login (issue 16 #5): its unique violation tells whether an e-mail is registered, in any
-- tenant. Sign-up belongs to the identity service's back end, a trusted caller (pgkit_maintenance).
REVOKE ALL ON FUNCTION app.register_user(text, text, text) FROM PUBLIC, pgkit_app;
GRANT EXECUTE ON FUNCTION app.register_user(text, text, text) TO pgkit_maintenance;
