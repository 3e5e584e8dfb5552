-- 0860: PgBouncer no longer looks logins up in the database. pgbouncer.user_lookup (sql/0003) read pg_shadow,
-- which RDS closes even to rds_superuser, so on RDS no pooled login could authenticate. PgBouncer now reads an
-- auth_file of SCRAM-SHA-256 verifiers that the kit computes from each login's generated password; each login
-- role is created or altered with exactly that verifier, so PgBouncer passes SCRAM through to the server
-- (docs/security.md, "Pooler authentication"). The lookup function goes; schema pgbouncer and the role
-- pgkit_pgbouncer stay (the role is the pooler's console user locally; a role is not the bundle's to drop).
-- pgkit:drops definitions/pgbouncer.user_lookup.sql
-- Serves: seed 003 §6.1 / §4.1 (connection pooling through PgBouncer); issue 12 (RDS parity).

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

DROP FUNCTION IF EXISTS pgbouncer.user_lookup(text);
