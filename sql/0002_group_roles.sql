-- 0002: group roles (NOLOGIN). Login roles and their passwords belong to an environment
-- (the local stack generates them; Pulumi creates them with random passwords in Secrets Manager)
-- and are granted these groups. Roles are cluster-wide, so creation tolerates a concurrent creator.
--   pgkit_owner        owns schema objects; never used by the application
--   pgkit_migrator     applies the SQL bundles (member of pgkit_owner)
--   pgkit_app          the only role the application and PgBouncer use: no BYPASSRLS, owns nothing
--   pgkit_readonly     read-only analytics
--   pgkit_maintenance  scheduled jobs (retention, resets)
-- Serves: seed 000 P1 (database-level security), seed 003 §3.4 (database roles for access levels).

DO $$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['pgkit_owner', 'pgkit_migrator', 'pgkit_app', 'pgkit_readonly', 'pgkit_maintenance'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      BEGIN
        EXECUTE format('CREATE ROLE %I NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS', r);
      EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL; -- another database of this cluster created it at the same moment
      END;
    END IF;
  END LOOP;
END
$$;

-- A group role must never bypass RLS, even if someone altered it by hand.
ALTER ROLE pgkit_app NOBYPASSRLS NOSUPERUSER;
ALTER ROLE pgkit_readonly NOBYPASSRLS NOSUPERUSER;
