-- 0599: the security bundle checks itself before anything is built on it: the migration fails if any table
-- holding tenant or user data (a column organization_id or user_id, in app, audit or ops, partitions
-- included) is without row-level security ENABLED and FORCED, if the application role could bypass RLS
-- or owns anything, if an object of the four schemas is not owned by pgkit_owner, or if a SECURITY DEFINER
-- function there has no pinned search_path. Later files are covered by the event trigger of 0410 and by
-- test/security.
-- Serves: seed 000 P1 ("validate RLS policies can't be bypassed"), seed 004 #26.

DO $$
DECLARE
  v_gaps text;
BEGIN
  SELECT string_agg(c.oid::regclass::text, ', ') INTO v_gaps
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname IN ('app', 'audit', 'ops') AND c.relkind IN ('r', 'p')
    AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname IN ('organization_id', 'user_id') AND NOT a.attisdropped)
    AND NOT (c.relrowsecurity AND c.relforcerowsecurity);
  IF v_gaps IS NOT NULL THEN
    RAISE EXCEPTION 'tenant tables without forced row-level security: %', v_gaps;
  END IF;

  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname IN ('pgkit_app', 'pgkit_anon', 'pgkit_readonly', 'pgkit_owner') AND (rolbypassrls OR rolsuper)) THEN
    RAISE EXCEPTION 'a pgkit group role can bypass row-level security';
  END IF;

  SELECT string_agg(x, ', ') INTO v_gaps FROM (
    SELECT c.oid::regclass::text AS x FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname IN ('app', 'app_private', 'audit', 'ops') AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
      AND c.relowner <> 'pgkit_owner'::regrole
    UNION ALL
    SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname IN ('app', 'app_private', 'audit', 'ops') AND p.proowner <> 'pgkit_owner'::regrole) s;
  IF v_gaps IS NOT NULL THEN
    RAISE EXCEPTION 'objects not owned by pgkit_owner: %', v_gaps;
  END IF;

  SELECT string_agg(p.oid::regprocedure::text, ', ') INTO v_gaps
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  WHERE n.nspname IN ('app', 'app_private', 'audit', 'ops', 'pgbouncer') AND p.prosecdef
    AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) cfg WHERE cfg LIKE 'search_path=%');
  IF v_gaps IS NOT NULL THEN
    RAISE EXCEPTION 'SECURITY DEFINER functions without a pinned search_path: %', v_gaps;
  END IF;
END
$$;
