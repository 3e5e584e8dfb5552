-- ops.job_remove_login_large_objects(): the scheduled removal of large objects owned by an application login
-- (issue 16 #8, see sql/1006). For each large object whose owner is a login of pgkit_app (the app and worker
-- logins): unlinks it and logs an error line (event login_large_object_removed, with its oid and owner);
-- rows_affected counts the objects removed.
-- Unlinking needs the owner's privileges: the job's runner (the admin, which created the logins: CREATEROLE, and
-- on PostgreSQL 16+ ADMIN on them) grants itself the owning login for the one statement and revokes it at once,
-- in the same transaction. SECURITY INVOKER on purpose, like ops.job_guard_login_roles: pgkit_owner has no
-- CREATEROLE. The admin's own membership is restored as it was (a membership it already had is kept).
-- Serves: seed 000 P1 (database-level security), seed 004 #32, #45 (jobs logged, alerting on errors).
-- pgkit:after 1006_remove_login_large_objects.sql

CREATE OR REPLACE FUNCTION ops.job_remove_login_large_objects()
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_job text := 'remove_login_large_objects'; v_id uuid; v_started timestamptz := pg_catalog.clock_timestamp(); v_rows bigint := 0;
  r record;
  v_had boolean;
BEGIN
  v_id := ops.job_begin(v_job);
  IF v_id IS NULL THEN RETURN pg_catalog.jsonb_build_object('job', v_job, 'status', 'skipped'); END IF;
  FOR r IN
    SELECT m.oid AS lo, a.rolname AS owner
    FROM pg_catalog.pg_largeobject_metadata m
    JOIN pg_catalog.pg_roles a ON a.oid = m.lomowner
    -- A login of pgkit_app: one that may act as it. Not pg_has_role(..., 'MEMBER'): from PostgreSQL 16 the admin, which
    -- created pgkit_app, holds an ADMIN-only membership in it and would count (app_private.can_set_role).
    WHERE a.rolcanlogin AND NOT a.rolsuper AND app_private.can_set_role(a.rolname, 'pgkit_app')
    ORDER BY m.oid
  LOOP
    v_had := pg_catalog.pg_has_role(CURRENT_USER, r.owner, 'USAGE');
    IF NOT v_had THEN
      EXECUTE pg_catalog.format('GRANT %I TO %I', r.owner, CURRENT_USER);
    END IF;
    PERFORM pg_catalog.lo_unlink(r.lo);
    IF NOT v_had THEN
      EXECUTE pg_catalog.format('REVOKE %I FROM %I', r.owner, CURRENT_USER);
    END IF;
    INSERT INTO ops.logs (level, event_type, message, metadata)
    VALUES ('error', 'login_large_object_removed',
            pg_catalog.format('login %s owned large object %s (the application uses none); removed', r.owner, r.lo),
            pg_catalog.jsonb_build_object('role', r.owner, 'large_object', r.lo));
    v_rows := v_rows + 1;
  END LOOP;
  RETURN ops.job_end(v_id, v_job, v_rows, v_started, '{}');
END
$$;
REVOKE ALL ON FUNCTION ops.job_remove_login_large_objects() FROM PUBLIC;
