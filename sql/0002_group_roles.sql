-- 0002: group roles (NOLOGIN). Login roles and their passwords belong to an environment
-- (the local stack generates them; Pulumi creates them with random passwords in Secrets Manager)
-- and are granted these groups. Roles are cluster-wide, so creation tolerates a concurrent creator.
--   pgkit_owner        owns schema objects; never used by the application
--   pgkit_migrator     applies the SQL bundles (member of pgkit_owner)
--   pgkit_app          the only role the application and PgBouncer use: no BYPASSRLS, owns nothing
--   pgkit_readonly     read-only analytics
--   pgkit_maintenance  scheduled jobs (retention, resets)
-- The roles' SUPERUSER and BYPASSRLS attributes are checked, not set: only a superuser may change them, and
-- the bundle runs as an admin shaped like the RDS master user, which is not one (docs/security.md, "Who
-- applies the bundle"). CREATE ROLE ... NOSUPERUSER NOBYPASSRLS needs no superuser: those are the defaults.
-- Serves: seed 000 P1 (database-level security), seed 003 §3.4 (database roles for access levels).
-- pgkit:replaces sha256:af2a3ec7cfef76b7e3409bf8c4c973544383fc5f7b5bc6c06e7b51e08219ab33

DO $$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['pgkit_owner', 'pgkit_migrator', 'pgkit_app', 'pgkit_readonly', 'pgkit_maintenance'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      BEGIN
        EXECUTE format('CREATE ROLE %I NOLOGIN NOCREATEDB NOCREATEROLE', r);
      EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL; -- another database of this cluster created it at the same moment
      END;
    END IF;
  END LOOP;
END
$$;

-- A group role must never be a superuser or bypass RLS, even if someone altered it by hand.
DO $$
DECLARE
  v_bad text;
BEGIN
  SELECT string_agg(rolname, ', ' ORDER BY rolname) INTO v_bad FROM pg_roles
  WHERE rolname IN ('pgkit_owner', 'pgkit_migrator', 'pgkit_app', 'pgkit_readonly', 'pgkit_maintenance')
    AND (rolsuper OR rolbypassrls);
  IF v_bad IS NOT NULL THEN
    RAISE EXCEPTION 'group role(s) % are SUPERUSER or BYPASSRLS', v_bad
      USING HINT = format('A superuser must run ALTER ROLE <role> NOSUPERUSER NOBYPASSRLS for each of: %s; then apply again.', v_bad);
  END IF;
END
$$;
