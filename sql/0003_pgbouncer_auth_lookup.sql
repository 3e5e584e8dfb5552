-- 0003: PgBouncer auth_query lookup. PgBouncer connects as its auth_user (pgkit_pgbouncer) and calls
-- this function to fetch a login role's SCRAM verifier, so no password file of app users exists.
-- SECURITY DEFINER with a pinned search_path (seed 004 #26); refuses superusers and roles that
-- cannot log in, so the pooler can never be used to log in as an administrator.
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
  WHERE s.usename = p_username
    AND NOT s.usesuper
    AND s.passwd IS NOT NULL
$$;

REVOKE ALL ON FUNCTION pgbouncer.user_lookup(text) FROM PUBLIC;
GRANT USAGE ON SCHEMA pgbouncer TO pgkit_pgbouncer;
GRANT EXECUTE ON FUNCTION pgbouncer.user_lookup(text) TO pgkit_pgbouncer;
