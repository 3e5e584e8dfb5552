-- ops.job_guard_login_roles(): the scheduled guard against a login that reconfigured itself (issue 16 #3, see
-- sql/0900). Removes every role-level default (ALTER ROLE <login> [IN DATABASE <db>] RESET ALL) of a login role
-- that is a member of pgkit_app (the app and worker logins), logging an error line per setting it removed.
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
  r record;
BEGIN
  v_id := ops.job_begin(v_job);
  IF v_id IS NULL THEN RETURN pg_catalog.jsonb_build_object('job', v_job, 'status', 'skipped'); END IF;
  FOR r IN
    SELECT a.rolname AS role, d.datname, s.setconfig
    FROM pg_catalog.pg_db_role_setting s
    JOIN pg_catalog.pg_roles a ON a.oid = s.setrole
    LEFT JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase
    WHERE a.rolcanlogin AND NOT a.rolsuper AND pg_catalog.pg_has_role(a.oid, 'pgkit_app', 'MEMBER')
  LOOP
    IF r.datname IS NULL THEN
      EXECUTE pg_catalog.format('ALTER ROLE %I RESET ALL', r.role);
    ELSE
      EXECUTE pg_catalog.format('ALTER ROLE %I IN DATABASE %I RESET ALL', r.role, r.datname);
    END IF;
    INSERT INTO ops.logs (level, event_type, message, metadata)
    VALUES ('error', 'login_role_reconfigured',
            pg_catalog.format('login %s had set %s for itself%s; removed', r.role, pg_catalog.array_to_string(r.setconfig, ', '),
                              CASE WHEN r.datname IS NULL THEN '' ELSE ' in database ' || r.datname END),
            pg_catalog.jsonb_build_object('role', r.role, 'database', r.datname, 'settings', pg_catalog.to_jsonb(r.setconfig)));
    v_rows := v_rows + 1;
  END LOOP;
  RETURN ops.job_end(v_id, v_job, v_rows, v_started, '{}');
END
$$;
REVOKE ALL ON FUNCTION ops.job_guard_login_roles() FROM PUBLIC;
