-- 0400: the request-context contract, read side. The caller sets, per transaction,
--   set_config('app.org_id', <uuid>, true), set_config('app.user_id', <uuid>, true)
-- (SET LOCAL semantics: the values die with the transaction, so PgBouncer transaction pooling cannot hand
-- them to the next client). Policies read them only through these two helpers, wrapped as
-- `(select app.current_org_id())` so the planner evaluates them once per query (an InitPlan), not per row.
--   Missing, empty or malformed value -> NULL (never a cast error): a NULL context matches no row.
--   The value must be a canonical lower/upper-case hyphenated uuid; anything else (braces, no hyphens,
--   SQL fragments) is treated as missing.
-- Plain SQL, STABLE, not SECURITY DEFINER; pg_catalog is searched first implicitly, and everything is
-- schema-qualified, so no search_path trick changes what they return.
-- Also: pgkit_anon, the group role for unauthenticated reads (seed 004 #28), created like 0002's roles.
-- Serves: seed 000 P1 (org-scoped policies), seed 001 (SET LOCAL org context with pooling),
--         seed 004 #18 (cheap RLS), seed 003 §3.4.

CREATE OR REPLACE FUNCTION app.current_org_id()
RETURNS uuid
LANGUAGE sql
STABLE
PARALLEL SAFE
AS $$
  SELECT CASE
           WHEN v OPERATOR(pg_catalog.~) '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$'
           THEN v::uuid
         END
  FROM (SELECT pg_catalog.current_setting('app.org_id', true) AS v) s
$$;
COMMENT ON FUNCTION app.current_org_id() IS
  'Organization of the current transaction (app.org_id set with set_config(..., true)); NULL when missing or malformed.';

CREATE OR REPLACE FUNCTION app.current_user_id()
RETURNS uuid
LANGUAGE sql
STABLE
PARALLEL SAFE
AS $$
  SELECT CASE
           WHEN v OPERATOR(pg_catalog.~) '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$'
           THEN v::uuid
         END
  FROM (SELECT pg_catalog.current_setting('app.user_id', true) AS v) s
$$;
COMMENT ON FUNCTION app.current_user_id() IS
  'User of the current transaction (app.user_id set with set_config(..., true)); NULL when missing or malformed.';

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pgkit_anon') THEN
    BEGIN
      CREATE ROLE pgkit_anon NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL; -- another database of this cluster created it at the same moment
    END;
  END IF;
END
$$;
ALTER ROLE pgkit_anon NOBYPASSRLS NOSUPERUSER;
ALTER ROLE pgkit_maintenance NOBYPASSRLS NOSUPERUSER;
ALTER ROLE pgkit_owner NOBYPASSRLS NOSUPERUSER;
