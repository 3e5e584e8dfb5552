-- ops.enforce_login_settings(): makes the role-level settings of every login of a pgkit group role what
-- ops.expected_login_settings() says (issue 17 #1), and keeps the guard of issue 16 #3:
--   - a guarded login (app, worker) that gave itself a setting in one database (ALTER ROLE ... IN DATABASE ...
--     SET) has them all removed there; one that changed or added a cluster-wide setting has that setting removed;
--     each removal is an error line (event login_role_reconfigured);
--   - an expected setting that is missing or has another value is set (ALTER ROLE <login> SET ...), logged at
--     info (event login_role_settings_applied).
-- Runs at the end of the bundle (sql/1000), when the local stack creates its logins, and every minute as the
-- guard job (ops.job_guard_login_roles), which is how a login created later (by Pulumi on RDS) gets its timeouts.
-- SECURITY INVOKER on purpose: ALTER ROLE on a login needs CREATEROLE (PostgreSQL 15; from 16 also ADMIN on the
-- login, which its creator, the admin, holds), which the admin has and pgkit_owner does not. PostgreSQL 15's
-- ALTER ROLE: "Roles having CREATEROLE privilege can change defaults for non-superuser roles"
-- (https://www.postgresql.org/docs/15/sql-alterrole.html); RDS's master user has CREATEROLE (src/local/platform.ts).
-- Returns one row per change made.
-- Serves: seed 003 §4.1 (query timeouts), seed 000 P1 (database-level security), seed 004 #45.
-- pgkit:after 0900_guard_login_roles.sql

CREATE OR REPLACE FUNCTION ops.enforce_login_settings()
RETURNS TABLE (login name, in_database name, action text, settings text[])
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  r record;
  v_expected text[];
  v_actual text[];
  v_bad text[];
  v_missing text[];
  s text;
BEGIN
  FOR r IN
    SELECT a.oid, a.rolname, g.group_role, g.guarded
    FROM pg_catalog.pg_roles a
    CROSS JOIN LATERAL (
      SELECT e.group_role, e.guarded FROM ops.expected_login_settings() e
      WHERE pg_catalog.to_regrole(e.group_role) IS NOT NULL AND app_private.can_set_role(a.rolname, e.group_role::name)
      ORDER BY e.rank LIMIT 1) g
    WHERE a.rolcanlogin AND NOT a.rolsuper
    ORDER BY a.rolname
  LOOP
    SELECT pg_catalog.array_agg(e.setting || '=' || e.value ORDER BY e.setting) INTO v_expected
    FROM ops.expected_login_settings() e WHERE e.group_role = r.group_role;

    -- Settings a guarded login gave itself in one database: all removed (nothing is expected per database).
    IF r.guarded THEN
      FOR in_database, settings IN
        SELECT d.datname, rs.setconfig FROM pg_catalog.pg_db_role_setting rs
        JOIN pg_catalog.pg_database d ON d.oid = rs.setdatabase
        WHERE rs.setrole = r.oid
      LOOP
        EXECUTE pg_catalog.format('ALTER ROLE %I IN DATABASE %I RESET ALL', r.rolname, in_database);
        INSERT INTO ops.logs (level, event_type, message, metadata)
        VALUES ('error', 'login_role_reconfigured',
                pg_catalog.format('login %s had set %s for itself in database %s; removed', r.rolname,
                                  pg_catalog.array_to_string(settings, ', '), in_database),
                pg_catalog.jsonb_build_object('role', r.rolname, 'database', in_database, 'settings', pg_catalog.to_jsonb(settings)));
        login := r.rolname; action := 'removed'; RETURN NEXT;
      END LOOP;
    END IF;

    SELECT rs.setconfig INTO v_actual FROM pg_catalog.pg_db_role_setting rs WHERE rs.setrole = r.oid AND rs.setdatabase = 0;
    v_actual := coalesce(v_actual, '{}');
    in_database := NULL;

    -- Cluster-wide settings of a guarded login that are not expected (another value of an expected one too).
    IF r.guarded THEN
      SELECT pg_catalog.array_agg(x ORDER BY x) INTO v_bad FROM pg_catalog.unnest(v_actual) x WHERE NOT x = ANY (v_expected);
      IF v_bad IS NOT NULL THEN
        FOREACH s IN ARRAY v_bad LOOP
          EXECUTE pg_catalog.format('ALTER ROLE %I RESET %I', r.rolname, pg_catalog.split_part(s, '=', 1));
        END LOOP;
        INSERT INTO ops.logs (level, event_type, message, metadata)
        VALUES ('error', 'login_role_reconfigured',
                pg_catalog.format('login %s had set %s for itself; removed', r.rolname, pg_catalog.array_to_string(v_bad, ', ')),
                pg_catalog.jsonb_build_object('role', r.rolname, 'database', NULL, 'settings', pg_catalog.to_jsonb(v_bad)));
        login := r.rolname; action := 'removed'; settings := v_bad; RETURN NEXT;
        SELECT rs.setconfig INTO v_actual FROM pg_catalog.pg_db_role_setting rs WHERE rs.setrole = r.oid AND rs.setdatabase = 0;
        v_actual := coalesce(v_actual, '{}');
      END IF;
    END IF;

    -- Expected settings missing (or with another value): set.
    SELECT pg_catalog.array_agg(x ORDER BY x) INTO v_missing FROM pg_catalog.unnest(v_expected) x WHERE NOT x = ANY (v_actual);
    IF v_missing IS NOT NULL THEN
      FOREACH s IN ARRAY v_missing LOOP
        EXECUTE pg_catalog.format('ALTER ROLE %I SET %I = %L', r.rolname, pg_catalog.split_part(s, '=', 1), pg_catalog.split_part(s, '=', 2));
      END LOOP;
      INSERT INTO ops.logs (level, event_type, message, metadata)
      VALUES ('info', 'login_role_settings_applied',
              pg_catalog.format('login %s (%s) given its expected settings %s', r.rolname, r.group_role, pg_catalog.array_to_string(v_missing, ', ')),
              pg_catalog.jsonb_build_object('role', r.rolname, 'group', r.group_role, 'settings', pg_catalog.to_jsonb(v_missing)));
      login := r.rolname; action := 'applied'; settings := v_missing; RETURN NEXT;
    END IF;
  END LOOP;
END
$$;
COMMENT ON FUNCTION ops.enforce_login_settings() IS
  'Gives every login of a pgkit group role its expected settings (query timeouts) and removes settings a guarded login gave itself (issues 16 #3, 17 #1).';
REVOKE ALL ON FUNCTION ops.enforce_login_settings() FROM PUBLIC;
