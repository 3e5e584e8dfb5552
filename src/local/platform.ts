// The local RDS stand-in: what Amazon RDS does for its customers, done here by the bootstrap superuser, and
// nothing more. Everything else (the whole sql/ bundle, the login roles, the grants) is applied by an admin login
// shaped like the RDS master user, so what passes locally passes on RDS (docs/security.md, "Who applies the
// bundle"). Sources, AWS documentation:
//   - the master user: "CREATE ROLE postgres WITH LOGIN NOSUPERUSER INHERIT CREATEDB CREATEROLE ...", granted
//     rds_superuser; https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Appendix.PostgreSQL.CommonDBATasks.Roles.rds_superuser.html
//   - rds_superuser may add the extensions RDS supports, see every connection in pg_stat_activity and end them
//     (pg_monitor, pg_signal_backend); same page.
//   - the master user may create, alter and drop event triggers;
//     https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/PostgreSQL.Concepts.General.FeatureSupport.EventTriggers.html
//   - pg_shadow and pg_authid are closed even to rds_superuser (passwords are stored by RDS, not readable).
// How the stand-in grants those two powers that vanilla PostgreSQL reserves for superusers:
//   - extensions: pgextwlist (Debian's postgresql-15-pgextwlist) lets the admin CREATE EXTENSION the allow-listed
//     extensions (also inside DO blocks), running the script as the bootstrap superuser; its after-create
//     scripts grant rds_superuser what an RDS master would hold as the extension's creator.
//   - event triggers: rds_stand_in.event_trigger_ddl(statement), a superuser-owned SECURITY DEFINER function that
//     runs one CREATE/ALTER/DROP EVENT TRIGGER statement for an rds_superuser member; the migration runner routes
//     exactly those statements through it when it exists (src/migrate/apply.ts). It exists only here: on RDS the
//     master runs them itself.
// What the stand-in cannot model: parameter groups (the local postgresql.conf plays that part), rds.force_ssl,
// IAM database authentication, rdsadmin-owned objects, and the extension objects' owner (the bootstrap superuser
// here, the master user on RDS).
import pg from 'pg';

export const RDS_SUPERUSER = 'rds_superuser';
/** Predefined roles rds_superuser holds on RDS for PostgreSQL 15 (pg_monitor includes pg_read_all_settings/stats). */
export const RDS_SUPERUSER_ROLES = ['pg_monitor', 'pg_signal_backend', 'pg_checkpoint'];
/** The extensions the bundle creates; all are supported on RDS for PostgreSQL 15-17. */
export const ALLOWED_EXTENSIONS = ['pgcrypto', 'citext', 'vector', 'pg_stat_statements', 'pg_partman', 'pg_cron'];
export const STAND_IN_SCHEMA = 'rds_stand_in';

/** pgextwlist's after-create scripts (file name -> content), installed under extwlist.custom_path. */
export const EXTENSION_AFTER_CREATE: Record<string, string> = {
  // On RDS the master user creates pg_cron and schedules jobs; jobs run as the role that scheduled them.
  pg_cron: [
    `GRANT USAGE ON SCHEMA cron TO ${RDS_SUPERUSER} WITH GRANT OPTION;`,
    `GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA cron TO ${RDS_SUPERUSER} WITH GRANT OPTION;`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA cron TO ${RDS_SUPERUSER} WITH GRANT OPTION;`,
    `GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA cron TO ${RDS_SUPERUSER} WITH GRANT OPTION;`,
    '',
  ].join('\n'),
  // The creator of pg_partman owns its configuration tables and functions on RDS.
  pg_partman: [
    `GRANT ALL ON SCHEMA @extschema@ TO ${RDS_SUPERUSER} WITH GRANT OPTION;`,
    `GRANT ALL ON ALL TABLES IN SCHEMA @extschema@ TO ${RDS_SUPERUSER} WITH GRANT OPTION;`,
    `GRANT ALL ON ALL SEQUENCES IN SCHEMA @extschema@ TO ${RDS_SUPERUSER} WITH GRANT OPTION;`,
    `GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA @extschema@ TO ${RDS_SUPERUSER} WITH GRANT OPTION;`,
    `GRANT EXECUTE ON ALL PROCEDURES IN SCHEMA @extschema@ TO ${RDS_SUPERUSER} WITH GRANT OPTION;`,
    '',
  ].join('\n'),
};

/** postgresql.conf lines of the stand-in (the local "parameter group"). */
export function renderStandInConf(customPath: string): string {
  return [
    `# RDS stand-in (src/local/platform.ts): the admin may create these extensions, as rds_superuser may on RDS`,
    `extwlist.extensions = '${ALLOWED_EXTENSIONS.join(',')}'`,
    `extwlist.custom_path = '${customPath}'`,
  ].join('\n');
}

const STAND_IN_SQL = `
CREATE SCHEMA IF NOT EXISTS ${STAND_IN_SCHEMA};
REVOKE ALL ON SCHEMA ${STAND_IN_SCHEMA} FROM PUBLIC;
GRANT USAGE ON SCHEMA ${STAND_IN_SCHEMA} TO ${RDS_SUPERUSER};
COMMENT ON SCHEMA ${STAND_IN_SCHEMA} IS 'pgkit local RDS stand-in: what rds_superuser may do on RDS that vanilla PostgreSQL reserves for superusers (not created on AWS)';
CREATE OR REPLACE FUNCTION ${STAND_IN_SCHEMA}.event_trigger_ddl(p_statement text)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  v_stmt text := pg_catalog.rtrim(pg_catalog.btrim(p_statement), '; ' || chr(10) || chr(9));
BEGIN
  IF NOT pg_catalog.pg_has_role(SESSION_USER, '${RDS_SUPERUSER}', 'MEMBER') THEN
    RAISE EXCEPTION 'permission denied: only members of ${RDS_SUPERUSER} may run event trigger DDL' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF v_stmt !~* '^(CREATE|ALTER|DROP)\\s+EVENT\\s+TRIGGER\\s' OR pg_catalog.strpos(v_stmt, ';') > 0 THEN
    RAISE EXCEPTION 'the RDS stand-in runs exactly one CREATE, ALTER or DROP EVENT TRIGGER statement' USING ERRCODE = 'insufficient_privilege';
  END IF;
  EXECUTE v_stmt;
END
$fn$;
REVOKE ALL ON FUNCTION ${STAND_IN_SCHEMA}.event_trigger_ddl(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ${STAND_IN_SCHEMA}.event_trigger_ddl(text) TO ${RDS_SUPERUSER};
`;

const q = (client: pg.ClientBase, sql: string, params: unknown[] = []) => client.query(sql, params);

/**
 * Cluster level, as the bootstrap superuser: the rds_superuser stand-in and the admin login (LOGIN CREATEROLE
 * CREATEDB NOSUPERUSER, a member of it), with a SCRAM verifier as its password. Idempotent.
 */
export async function ensureRdsRoles(superuser: pg.ClientBase, admin: { name: string; verifier: string }): Promise<void> {
  const exists = async (role: string) => ((await q(superuser, 'SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount ?? 0) > 0;
  if (!(await exists(RDS_SUPERUSER))) await q(superuser, `CREATE ROLE ${RDS_SUPERUSER} NOLOGIN`);
  await q(superuser, `GRANT ${RDS_SUPERUSER_ROLES.join(', ')} TO ${RDS_SUPERUSER}`);
  const id = pg.escapeIdentifier(admin.name);
  if (!(await exists(admin.name))) await q(superuser, `CREATE ROLE ${id}`);
  // The verifier is a SCRAM string: PostgreSQL stores it as it is, and no plaintext reaches the server log.
  await q(superuser, `ALTER ROLE ${id} LOGIN NOSUPERUSER NOBYPASSRLS NOREPLICATION CREATEROLE CREATEDB INHERIT PASSWORD ${pg.escapeLiteral(admin.verifier)}`);
  await q(superuser, `GRANT ${RDS_SUPERUSER} TO ${id}`);
}

/** Database level, as the bootstrap superuser: the event-trigger stand-in. Idempotent; also run on template1. */
export async function ensureStandIn(superuserInDatabase: pg.ClientBase): Promise<void> {
  await q(superuserInDatabase, STAND_IN_SQL);
}

/**
 * Hardening RDS lets its master do and a fresh cluster lacks: the app logins may not connect to, or create
 * temporary objects in, the maintenance database `postgres` or template1.
 */
export async function closeMaintenanceDatabases(superuser: pg.ClientBase): Promise<void> {
  for (const db of ['postgres', 'template1']) await q(superuser, `REVOKE CONNECT, TEMPORARY ON DATABASE ${db} FROM PUBLIC`);
  // The admin (as the RDS master) still administers the cluster from `postgres`.
  await q(superuser, `GRANT CONNECT ON DATABASE postgres TO ${RDS_SUPERUSER}`);
}
