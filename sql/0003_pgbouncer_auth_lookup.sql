-- 0003: PgBouncer auth_query lookup. PgBouncer connects as its auth_user (pgkit_pgbouncer) and calls
-- this function to fetch a login role's SCRAM verifier, so no password file of app users exists.
-- SECURITY DEFINER with a pinned search_path (seed 004 #26); refuses superusers, rds_superuser
-- members, CREATEROLE roles and roles without a password, so the pooler can never be used to log in as an administrator.
-- Serves: seed 003 §6.1 / §4.1 (connection pooling through PgBouncer), seed 004 #26.
-- pgkit:replaces sha256:da645836df86cc6e5121be138c42f78413bcee8054c0f38f666afec0d942ed05
-- What this file wrote of functions and views (their definitions, grants, comments and triggers) now lives in
--   sql/definitions/: pgbouncer.user_lookup.sql.

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

GRANT USAGE ON SCHEMA pgbouncer TO pgkit_pgbouncer;
