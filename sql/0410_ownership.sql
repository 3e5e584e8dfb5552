-- 0410: who owns what. Every object in app, app_private, audit and ops is owned by pgkit_owner (NOLOGIN,
-- never used by the application), so a SECURITY DEFINER function runs as pgkit_owner, never as the
-- superuser or the RDS master user that happened to apply the file.
--   * The migration user (superuser locally, the RDS master user — not a superuser — in AWS) becomes a
--     member of pgkit_owner, which is what ALTER ... OWNER TO requires of a non-superuser; pgkit_migrator
--     is a member too.
--   * Existing objects are handed over here; objects created by later files (0600+, pg_partman's new
--     partitions) are handed over by the event trigger pgkit_assign_owner at the end of the creating
--     command. The same trigger turns row-level security ON and FORCED for every new table with an
--     organization_id or user_id column, with only the owner's policy: a tenant table somebody forgets
--     to write policies for is closed to the application, not open.
--   * Event triggers need a superuser (RDS: rds_superuser, which the master user has).
--   * pgbouncer.user_lookup stays with its creator: it must read pg_shadow (docs/security.md, RDS notes).
-- Serves: seed 000 P1, seed 003 §3.4 (roles for access levels), seed 004 #26 (definer functions run as a
--         least-privileged owner).
-- pgkit:replaces sha256:5fe4c85034344271a2b91919d6019ed615e41aeb6ddd85bd508849ba9166c0d7
-- pgkit:replaces sha256:158f9fd3f8e14c1e7c4fcf706c3fcd27d6ab3468a06e272ed467e8b0453ca4a0
-- (issue 14: the membership check below asks app_private.can_set_role, not pg_has_role(..., 'MEMBER'): on
-- PostgreSQL 16+ the admin that created pgkit_owner holds ADMIN OPTION alone on it, which counts as MEMBER
-- but not for ALTER ... OWNER TO. A database that applied the old text is unchanged: on 15 both checks agree.)
-- What this file wrote of functions and views (their definitions, grants, comments and triggers) now lives in
--   sql/definitions/: app_private.assign_owner.sql, app_private.close_tenant_table.sql,
--   app_private.evt_assign_owner.sql.

DO $$
BEGIN
  IF NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user)
     AND NOT app_private.can_set_role(current_user, 'pgkit_owner') THEN
    EXECUTE format('GRANT pgkit_owner TO %I', current_user);
  END IF;
END
$$;
GRANT pgkit_owner TO pgkit_migrator;

ALTER SCHEMA app OWNER TO pgkit_owner;
ALTER SCHEMA app_private OWNER TO pgkit_owner;
ALTER SCHEMA audit OWNER TO pgkit_owner;
ALTER SCHEMA ops OWNER TO pgkit_owner;

DROP EVENT TRIGGER IF EXISTS pgkit_assign_owner;
CREATE EVENT TRIGGER pgkit_assign_owner ON ddl_command_end
  WHEN TAG IN ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO', 'CREATE VIEW', 'CREATE MATERIALIZED VIEW',
               'CREATE SEQUENCE', 'CREATE FUNCTION', 'CREATE PROCEDURE', 'CREATE TYPE')
  EXECUTE FUNCTION app_private.evt_assign_owner();

SELECT app_private.assign_owner();
