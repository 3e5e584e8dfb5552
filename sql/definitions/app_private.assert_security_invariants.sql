-- app_private.assert_security_invariants(): the security bundle's self-check, raised as one error naming every
-- gap. Called by sql/0599 (before anything is built on the security bundle) and by later files that change
-- privileges (sql/0850), so a database that passes the bundle holds every invariant below:
--   * every table holding tenant or user data (a column organization_id or user_id, in app, audit or ops,
--     partitions included) has row-level security ENABLED and FORCED;
--   * no pgkit group role is SUPERUSER or BYPASSRLS;
--   * every object of app, app_private, audit and ops is owned by pgkit_owner;
--   * every SECURITY DEFINER function there (and in pgbouncer) pins its search_path;
--   * no function there is executable by PUBLIC (issue 12: a function created by a role without the
--     default-privilege revoke would otherwise be callable by every login);
--   * no application role may INSERT an id of its choosing (app_private.application_chosen_ids, after sql/1004).
--   The migration runner calls it after every apply that ran a file (src/migrate/apply.ts), so a later file
--   that breaks one is reported at once.
-- Serves: seed 000 P1 ("validate RLS policies can't be bypassed"), seed 004 #26.
-- pgkit:after 0480_public_views.sql

CREATE OR REPLACE FUNCTION app_private.assert_security_invariants()
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_gaps text;
  v_problems text[] := '{}';
BEGIN
  SELECT string_agg(c.oid::regclass::text, ', ' ORDER BY 1) INTO v_gaps
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname IN ('app', 'audit', 'ops') AND c.relkind IN ('r', 'p')
    AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname IN ('organization_id', 'user_id') AND NOT a.attisdropped)
    AND NOT (c.relrowsecurity AND c.relforcerowsecurity);
  IF v_gaps IS NOT NULL THEN
    v_problems := v_problems || ('tenant tables without forced row-level security: ' || v_gaps);
  END IF;

  SELECT string_agg(rolname, ', ' ORDER BY rolname) INTO v_gaps FROM pg_roles
  WHERE rolname IN ('pgkit_owner', 'pgkit_migrator', 'pgkit_app', 'pgkit_anon', 'pgkit_readonly', 'pgkit_maintenance', 'pgkit_worker')
    AND (rolbypassrls OR rolsuper);
  IF v_gaps IS NOT NULL THEN
    v_problems := v_problems || ('pgkit group roles that are SUPERUSER or BYPASSRLS: ' || v_gaps);
  END IF;

  SELECT string_agg(x, ', ' ORDER BY x) INTO v_gaps FROM (
    SELECT c.oid::regclass::text AS x FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname IN ('app', 'app_private', 'audit', 'ops') AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
      AND c.relowner <> 'pgkit_owner'::regrole
    UNION ALL
    SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname IN ('app', 'app_private', 'audit', 'ops') AND p.proowner <> 'pgkit_owner'::regrole) s;
  IF v_gaps IS NOT NULL THEN
    v_problems := v_problems || ('objects not owned by pgkit_owner: ' || v_gaps);
  END IF;

  SELECT string_agg(p.oid::regprocedure::text, ', ' ORDER BY 1) INTO v_gaps
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  WHERE n.nspname IN ('app', 'app_private', 'audit', 'ops', 'pgbouncer') AND p.prosecdef
    AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) cfg WHERE cfg LIKE 'search_path=%');
  IF v_gaps IS NOT NULL THEN
    v_problems := v_problems || ('SECURITY DEFINER functions without a pinned search_path: ' || v_gaps);
  END IF;

  SELECT string_agg(p.oid::regprocedure::text, ', ' ORDER BY 1) INTO v_gaps
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  WHERE n.nspname IN ('app', 'app_private', 'audit', 'ops')
    AND has_function_privilege('public', p.oid, 'EXECUTE');
  IF v_gaps IS NOT NULL THEN
    v_problems := v_problems || ('functions executable by PUBLIC (REVOKE EXECUTE ... FROM PUBLIC, then grant the roles that need them): ' || v_gaps);
  END IF;

  -- sql/1004's rule, once that file has made it true (the check is its own definition, created after 1004).
  IF to_regprocedure('app_private.application_chosen_ids()') IS NOT NULL THEN
    EXECUTE 'SELECT app_private.application_chosen_ids()' INTO v_gaps;
    IF v_gaps IS NOT NULL THEN
      v_problems := v_problems || ('application roles that may choose the id of an insert (grant INSERT on the other columns only; sql/1004): ' || v_gaps);
    END IF;
  END IF;

  IF cardinality(v_problems) > 0 THEN
    RAISE EXCEPTION 'security invariants broken: %', array_to_string(v_problems, '; ')
      USING ERRCODE = 'insufficient_privilege';
  END IF;
END
$$;
COMMENT ON FUNCTION app_private.assert_security_invariants() IS
  'Raises one error naming every broken security invariant (forced RLS on tenant tables, group roles without SUPERUSER/BYPASSRLS, pgkit_owner owns everything, pinned search_path on definer functions, no function executable by PUBLIC, no application role choosing an insert''s id).';
REVOKE ALL ON FUNCTION app_private.assert_security_invariants() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_private.assert_security_invariants() TO pgkit_maintenance;
