-- 0850: no role that creates objects here leaves a function executable by PUBLIC.
--   PostgreSQL grants EXECUTE to PUBLIC on every new function unless the creating role's default privileges
--   say otherwise. 0450 set that for the role applying the bundle and for pgkit_owner; pgkit_migrator (whose
--   members apply the bundle on AWS) had none. Default privileges belong to the creating role, so this file
--   sets them for pgkit_migrator and again for the role applying it, then re-checks every invariant of the
--   security bundle, now including "no function of app, app_private, audit or ops is executable by PUBLIC".
--   ALTER DEFAULT PRIVILEGES FOR ROLE needs membership in that role: the applying admin (CREATEROLE, as the
--   RDS master user) grants it to itself, as 0410 does for pgkit_owner.
-- Serves: seed 000 P1 (database-level security), seed 004 #26; issue 12 (RDS parity).
-- pgkit:replaces sha256:af8ecb10f5d6591262aed579ab0fbab2b502d0ea7a59cc41f0a06ab60a603e6c
-- (issue 14: membership is checked with app_private.can_set_role, which on PostgreSQL 16+ asks for the SET
-- option the command needs; a database that applied the old text is unchanged: on 15 both checks agree.)

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

DO $$
BEGIN
  IF NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user)
     AND NOT app_private.can_set_role(current_user, 'pgkit_migrator') THEN
    EXECUTE format('GRANT pgkit_migrator TO %I', current_user);
  END IF;
END
$$;

ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE pgkit_migrator REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

SELECT app_private.assert_security_invariants();
