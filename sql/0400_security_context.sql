-- 0400: the request-context contract, read side. The caller sets, per transaction,
--   set_config('app.org_id', <uuid>, true), set_config('app.user_id', <uuid>, true)
-- (SET LOCAL semantics: the values die with the transaction, so PgBouncer transaction pooling cannot hand
-- them to the next client). Policies read them only through these two helpers, wrapped as
-- `(select app.current_org_id())` so the planner evaluates them once per query (an InitPlan), not per row.
--   Missing, empty or malformed value -> NULL (never a cast error): a NULL context matches no row.
--   The value must be a canonical lower/upper-case hyphenated uuid; anything else (braces, no hyphens,
--   SQL fragments) is treated as missing.
-- The organization is honoured only for a MEMBER (defense in depth, seed 000 "validate RLS policies can't be
-- bypassed"): app.current_org_id() returns app.org_id only when app.user_id is an active member of it
-- (app.memberships row, not soft-deleted) — one lookup on memberships_organization_id_user_id_key, made once
-- per query through the (select ...) InitPlan. An application bug or a forged context that names another
-- organization (or a membership that was removed) therefore yields NULL: no rows, no writes.
--   Without a user, the organization is honoured only for sessions whose login role is a member of
--   pgkit_worker (queue workers that act for an organization, not for a person; docs/security.md). The
--   application login role is not one: a request that lost its user sees nothing. SECURITY DEFINER
--   functions (queue, jobs, erasure) and the owner/maintenance/readonly policies do not depend on it.
-- current_user_id(): plain SQL, not SECURITY DEFINER. current_org_id(): SECURITY DEFINER (it must read
-- memberships, whose own policy calls current_org_id(); as pgkit_owner it reads through the owner policy),
-- no arguments (reads only the caller's own context, so it is no membership oracle), search_path pinned,
-- everything schema-qualified; SESSION_USER is the login role (a definer function's CURRENT_USER is the owner).
-- Also: pgkit_anon, the group role for unauthenticated reads (seed 004 #28), and pgkit_worker, created like
-- 0002's roles.
-- Serves: seed 000 P1 (org-scoped policies), seed 001 (SET LOCAL org context with pooling),
--         seed 004 #18 (cheap RLS), seed 003 §3.4.
-- pgkit:replaces sha256:66aa1f93b2af4976bb786d25e79cf42f46aa733d8117ece4434345a119468e82
-- pgkit:replaces sha256:54af29a0b8ea40846ae6aa292596a5c47bb32b77525746271d097e90be66fc0a
-- The roles' SUPERUSER and BYPASSRLS attributes are checked, not set (see 0002).
-- What this file wrote of functions and views (their definitions, grants, comments and triggers) now lives in
--   sql/definitions/: app.current_user_id.sql, app.current_org_id.sql.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pgkit_anon') THEN
    BEGIN
      CREATE ROLE pgkit_anon NOLOGIN NOCREATEDB NOCREATEROLE;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL; -- another database of this cluster created it at the same moment
    END;
  END IF;
END
$$;

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pgkit_worker') THEN
    BEGIN
      CREATE ROLE pgkit_worker NOLOGIN NOCREATEDB NOCREATEROLE;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL; -- another database of this cluster created it at the same moment
    END;
  END IF;
END
$$;
DO $$
DECLARE
  v_bad text;
BEGIN
  SELECT string_agg(rolname, ', ' ORDER BY rolname) INTO v_bad FROM pg_roles
  WHERE rolname IN ('pgkit_anon', 'pgkit_worker') AND (rolsuper OR rolbypassrls);
  IF v_bad IS NOT NULL THEN
    RAISE EXCEPTION 'group role(s) % are SUPERUSER or BYPASSRLS', v_bad
      USING HINT = format('A superuser must run ALTER ROLE <role> NOSUPERUSER NOBYPASSRLS for each of: %s; then apply again.', v_bad);
  END IF;
END
$$;
-- A worker is the application without a person: the app's grants and policies, plus an org-only context.
GRANT pgkit_app TO pgkit_worker;
