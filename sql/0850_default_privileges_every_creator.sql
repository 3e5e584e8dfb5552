-- 0850: no role that creates objects here leaves a function executable by PUBLIC.
--   PostgreSQL grants EXECUTE to PUBLIC on every new function unless the creating role's default privileges
--   say otherwise. 0450 set that for the role applying the bundle and for pgkit_owner; pgkit_migrator (whose
--   members apply the bundle on AWS) had none. Default privileges belong to the creating role, so this file
--   sets them for pgkit_migrator and again for the role applying it, then re-checks every invariant of the
--   security bundle, now including "no function of app, app_private, audit or ops is executable by PUBLIC".
--   ALTER DEFAULT PRIVILEGES FOR ROLE needs membership in that role: the applying admin (CREATEROLE, as the
--   RDS master user) grants it to itself, as 0410 does for pgkit_owner.
-- Serves: seed 000 P1 (database-level security), seed 004 #26; issue 12 (RDS parity).

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

DO $$
BEGIN
  IF NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user)
     AND NOT pg_catalog.pg_has_role(current_user, 'pgkit_migrator', 'MEMBER') THEN
    EXECUTE format('GRANT pgkit_migrator TO %I', current_user);
  END IF;
END
$$;

ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE pgkit_migrator REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

SELECT app_private.assert_security_invariants();
