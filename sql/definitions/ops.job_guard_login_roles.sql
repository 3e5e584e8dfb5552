-- ops.job_guard_login_roles(): the scheduled guard against a login that reconfigured itself (issue 16 #3, see
-- sql/0900), which also keeps the expected query timeouts on every login (issue 17 #1, sql/1000): runs
-- ops.enforce_login_settings(), which removes every role-level setting an app or worker login gave itself
-- that is not one of ops.expected_login_settings() (an error line each) and sets the expected ones that are
-- missing or changed (an info line each); rows_affected counts the changes.
-- SECURITY INVOKER on purpose: resetting a role needs CREATEROLE, which the job's runner has (pg_cron runs it as
-- the admin that scheduled it) and pgkit_owner does not.
-- Serves: seed 000 P1 (database-level security), seed 004 #32, #45 (jobs logged, alerting on errors).
-- pgkit:after 0900_guard_login_roles.sql

CREATE OR REPLACE FUNCTION ops.job_guard_login_roles()
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_job text := 'guard_login_roles'; v_id uuid; v_started timestamptz := pg_catalog.clock_timestamp(); v_rows bigint := 0;
BEGIN
  v_id := ops.job_begin(v_job);
  IF v_id IS NULL THEN RETURN pg_catalog.jsonb_build_object('job', v_job, 'status', 'skipped'); END IF;
  SELECT count(*) INTO v_rows FROM ops.enforce_login_settings();
  RETURN ops.job_end(v_id, v_job, v_rows, v_started, '{}');
END
$$;
REVOKE ALL ON FUNCTION ops.job_guard_login_roles() FROM PUBLIC;
