-- pgbouncer.user_lookup: the current definition of this function.
-- First created by sql/0003_pgbouncer_auth_lookup.sql.
-- Serves: seed 003 §6.1 / §4.1 (connection pooling through PgBouncer), seed 004 #26.
-- pgkit:after 0003_pgbouncer_auth_lookup.sql

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
GRANT EXECUTE ON FUNCTION pgbouncer.user_lookup(text) TO pgkit_pgbouncer;
