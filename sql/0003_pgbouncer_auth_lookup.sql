-- 0003: PgBouncer auth_query lookup. PgBouncer connects as its auth_user (pgkit_pgbouncer) and calls
-- this function to fetch a login role's SCRAM verifier, so no password file of app users exists.
-- SECURITY DEFINER with a pinned search_path (seed 004 #26); refuses superusers, rds_superuser
-- members, CREATEROLE roles and roles without a password, so the pooler can never be used to log in as an administrator.
-- Serves: seed 003 §6.1 / §4.1 (connection pooling through PgBouncer), seed 004 #26.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pgkit_pgbouncer') THEN
    BEGIN
      CREATE ROLE pgkit_pgbouncer NOLOGIN;  -- the environment gives it LOGIN and a password
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL;
    END;
  END IF;
END
$$;

CREATE OR REPLACE FUNCTION pgbouncer.user_lookup(p_username text, OUT usename name, OUT passwd text)
RETURNS record
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT s.usename, s.passwd
  FROM pg_catalog.pg_shadow s
  JOIN pg_catalog.pg_roles r ON r.oid = s.usesysid
  WHERE s.usename = p_username
    AND NOT s.usesuper
    AND NOT r.rolcreaterole
    AND s.passwd IS NOT NULL
    -- On RDS the master user is not a superuser but a member of rds_superuser: refuse it too.
    AND NOT EXISTS (
      SELECT 1
      FROM pg_catalog.pg_auth_members m
      JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
      WHERE m.member = s.usesysid AND g.rolname = 'rds_superuser'
    )
$$;

REVOKE ALL ON FUNCTION pgbouncer.user_lookup(text) FROM PUBLIC;
GRANT USAGE ON SCHEMA pgbouncer TO pgkit_pgbouncer;
GRANT EXECUTE ON FUNCTION pgbouncer.user_lookup(text) TO pgkit_pgbouncer;
