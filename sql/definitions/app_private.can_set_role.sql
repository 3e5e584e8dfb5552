-- app_private.can_set_role: the current definition of this function.
-- First created for issue 14 (PostgreSQL 17 as a tested target), used by sql/0410_ownership.sql and
-- sql/0850_default_privileges_every_creator.sql.
-- Serves: seed 000 P1, seed 003 §3.4 (roles for access levels), seed 004 #26; issue 12 (RDS parity).
-- pgkit:after 0400_security_context.sql

-- Whether p_member may act as p_role the way ALTER ... OWNER TO and ALTER DEFAULT PRIVILEGES FOR ROLE require.
-- The one place where this differs by major. Up to PostgreSQL 15 that is membership ('MEMBER'). From 16 on,
-- a membership carries ADMIN, INHERIT and SET options, and a CREATEROLE role that creates a role is given
-- ADMIN OPTION alone on it (createrole_self_grant is empty by default): pg_has_role(..., 'MEMBER') is then
-- true while those commands are refused ("must be able to SET ROLE"), so the check is the SET option.
-- PostgreSQL 16 release notes, "Restrict the privileges of CREATEROLE and its ability to modify other roles";
-- docs: "Role Membership" and pg_has_role ('SET' is new in 16).
CREATE OR REPLACE FUNCTION app_private.can_set_role(p_member name, p_role name)
RETURNS boolean
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF pg_catalog.current_setting('server_version_num')::integer >= 160000 THEN
    RETURN pg_catalog.pg_has_role(p_member, p_role, 'SET');
  END IF;
  RETURN pg_catalog.pg_has_role(p_member, p_role, 'MEMBER');
END
$$;
COMMENT ON FUNCTION app_private.can_set_role(name, name) IS
  'Whether p_member may SET ROLE to p_role (membership up to PostgreSQL 15; the SET option from 16): what ALTER ... OWNER TO and ALTER DEFAULT PRIVILEGES FOR ROLE require.';
REVOKE ALL ON FUNCTION app_private.can_set_role(name, name) FROM PUBLIC;
