-- 0420: denormalized tenant keys stay true. Policies compare a row's own organization_id (and user_id)
-- with the request context, never through a per-row subquery (seed 004 #18). That is only safe if those
-- columns agree with the parent row, so a BEFORE trigger on every child table:
--   * fills organization_id (and user_id where the parent carries the owner, e.g. chat_messages from
--     chat_sessions) when the writer left it NULL;
--   * rejects a row whose organization_id / user_id differs from its parent's.
-- The error is the same (23503, "<fk column> not found in this organization") whether the parent does not
-- exist or belongs to another organization, so the trigger is no oracle for other tenants' ids.
-- SECURITY DEFINER (owner sees every parent, so the check is exact) with a pinned search_path; the table
-- and column names come from the trigger arguments written here, never from data.
-- No oracle through the other triggers either. Two layers per (table, parent key), and both fire before every
-- other BEFORE trigger of the table (PostgreSQL fires triggers of one event in name order, C collation; hence
-- the leading underscore — name no other trigger to sort before `_tenant_`):
--   _tenant_context_<fk>  tg__tenant_context: only for writes made with the application's privileges (the
--       writer is a pgkit_app member, i.e. under the app policies, and not pgkit_owner: superusers, the owner's
--       SECURITY DEFINER functions — queue, scheduler, counters, erasure — and maintenance are not). The parent
--       must be in the request context's organization (app.current_org_id()) and, where the parent carries
--       the owning user (chat_sessions for chat_messages), be that user's (app.current_user_id()); anything else
--       — missing, another tenant's, a colleague's session, a NULL context — raises the same error as above.
--   _tenant_parent_<fk>   tg__tenant_parent: for every writer, the exact rule above (fill / reject).
--   (`_tenant_context_` sorts before `_tenant_parent_`, so for the app the first layer answers every time.)
--   Without the first layer a write that omits organization_id (and user_id) gets them filled from another
--   tenant's parent and passes this check, and without the order the guards that read the parent answer first:
--   0134/0630's session-open check and rate limit told a member of organization A whether organization B's
--   session was completed, soft-deleted or had just been written to. Running first also gives those guards
--   (and 0620's cost breaker, 0630's per-organization rate limit) the filled organization_id.
-- Serves: seed 004 #18 (denormalized user_id kept by trigger), seed 000 P1, seed 003 §5.1.

-- The one error of both layers: 23503 "<table>.<fk> not found in this organization", constraint
-- <table>_<fk>_tenant_fkey. On a partition (token_usage, engagement_events) the trigger is the parent's clone:
-- the error is named after the partitioned table, so the constraint name is the same every month.
CREATE OR REPLACE FUNCTION app_private.raise_tenant_fkey(p_relid oid, p_fk text)
RETURNS void
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_rel    oid := coalesce(pg_catalog.pg_partition_root(p_relid), p_relid);
  v_table  text;
  v_schema text;
BEGIN
  SELECT c.relname, n.nspname INTO v_table, v_schema
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE c.oid = v_rel;
  RAISE EXCEPTION '%.% not found in this organization', v_table, p_fk
    USING ERRCODE = 'foreign_key_violation', CONSTRAINT = v_table || '_' || p_fk || '_tenant_fkey',
          SCHEMA = v_schema, TABLE = v_table;
END
$$;
REVOKE ALL ON FUNCTION app_private.raise_tenant_fkey(oid, text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION app_private.tg__tenant_parent()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_fk      text := TG_ARGV[0];              -- foreign key column of this table
  v_parent  text := TG_ARGV[1];              -- parent table (schema-qualified)
  v_user    boolean := coalesce(TG_ARGV[2], 'false')::boolean;  -- parent's user_id must match too
  v_row     jsonb := pg_catalog.to_jsonb(NEW);
  v_id      uuid := (v_row ->> v_fk)::uuid;
  v_org     uuid;
  v_uid     uuid;
  v_patch   jsonb := '{}';
BEGIN
  IF v_id IS NULL THEN
    RETURN NEW;
  END IF;
  IF v_user THEN
    EXECUTE format('SELECT organization_id, user_id FROM %s WHERE id = $1', v_parent) INTO v_org, v_uid USING v_id;
  ELSE
    EXECUTE format('SELECT organization_id FROM %s WHERE id = $1', v_parent) INTO v_org USING v_id;
  END IF;

  IF v_org IS NULL
     OR (v_row ->> 'organization_id' IS NOT NULL AND (v_row ->> 'organization_id')::uuid <> v_org)
     OR (v_user AND v_row ->> 'user_id' IS NOT NULL AND (v_row ->> 'user_id')::uuid IS DISTINCT FROM v_uid) THEN
    PERFORM app_private.raise_tenant_fkey(TG_RELID, v_fk);
  END IF;

  IF v_row ->> 'organization_id' IS NULL THEN
    v_patch := v_patch || pg_catalog.jsonb_build_object('organization_id', v_org);
  END IF;
  IF v_user AND v_row ->> 'user_id' IS NULL THEN
    v_patch := v_patch || pg_catalog.jsonb_build_object('user_id', v_uid);
  END IF;
  IF v_patch <> '{}' THEN
    NEW := pg_catalog.jsonb_populate_record(NEW, v_patch);
  END IF;
  RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION app_private.tg__tenant_parent() FROM PUBLIC;
COMMENT ON FUNCTION app_private.tg__tenant_parent() IS
  'BEFORE INSERT/UPDATE: organization_id (and user_id) of the row equal those of the parent named by TG_ARGV; fills them when NULL.';

-- The first layer: for writes under the app policies only (the triggers' WHEN clause), the parent must be in
-- the request context. Static lookups for the known parents (cached plans: this runs on every message insert),
-- dynamic SQL for any other. No fill, no comparison with the row: the second layer does both.
CREATE OR REPLACE FUNCTION app_private.tg__tenant_context()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_fk     text := TG_ARGV[0];              -- foreign key column of this table
  v_parent text := TG_ARGV[1];              -- parent table (schema-qualified)
  v_user   boolean := coalesce(TG_ARGV[2], 'false')::boolean;  -- the parent's user must be the context's
  v_id     uuid := (pg_catalog.to_jsonb(NEW) ->> v_fk)::uuid;
  v_org    uuid;
  v_uid    uuid;
BEGIN
  IF v_id IS NULL THEN
    RETURN NEW;
  END IF;
  CASE v_parent
    WHEN 'app.projects' THEN
      SELECT p.organization_id INTO v_org FROM app.projects p WHERE p.id = v_id;
    WHEN 'app.episodes' THEN
      SELECT e.organization_id INTO v_org FROM app.episodes e WHERE e.id = v_id;
    WHEN 'app.blocks' THEN
      SELECT b.organization_id INTO v_org FROM app.blocks b WHERE b.id = v_id;
    WHEN 'app.chat_sessions' THEN
      SELECT s.organization_id, s.user_id INTO v_org, v_uid FROM app.chat_sessions s WHERE s.id = v_id;
    ELSE
      IF v_user THEN
        EXECUTE format('SELECT organization_id, user_id FROM %s WHERE id = $1', v_parent) INTO v_org, v_uid USING v_id;
      ELSE
        EXECUTE format('SELECT organization_id FROM %s WHERE id = $1', v_parent) INTO v_org USING v_id;
      END IF;
  END CASE;
  IF v_org IS NULL
     OR v_org IS DISTINCT FROM app.current_org_id()
     OR (v_user AND v_uid IS DISTINCT FROM app.current_user_id()) THEN
    PERFORM app_private.raise_tenant_fkey(TG_RELID, v_fk);
  END IF;
  RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION app_private.tg__tenant_context() FROM PUBLIC;
COMMENT ON FUNCTION app_private.tg__tenant_context() IS
  'BEFORE INSERT/UPDATE, writes under the app policies only: the parent named by TG_ARGV is in the request context''s organization (and is the context user''s where the parent carries the owner).';

-- Both layers per (table, fk column, parent, parent carries the owning user).
-- Writes "under the app policies": the writing role (CURRENT_USER in the WHEN clause is the role running the
-- statement, not the definer of a trigger function) has pgkit_app's privileges and not pgkit_owner's — a
-- superuser has every role's, so it is excluded with the owner. (Role names, not regrole constants: a stored
-- expression cannot depend on a role.)
DO $$
DECLARE
  t record;
BEGIN
  FOR t IN
    SELECT * FROM (VALUES
      ('app.episodes',               'project_id',              'app.projects',      false),
      ('app.blocks',                 'episode_id',              'app.episodes',      false),
      ('app.highlights',             'episode_id',              'app.episodes',      false),
      ('app.highlights',             'block_id',                'app.blocks',        false),
      ('app.planning_notes',         'project_id',              'app.projects',      false),
      ('app.planning_notes',         'incorporated_episode_id', 'app.episodes',      false),
      ('app.agent_memory',           'project_id',              'app.projects',      false),
      ('app.chat_sessions',          'project_id',              'app.projects',      false),
      ('app.chat_sessions',          'episode_id',              'app.episodes',      false),
      ('app.chat_messages',          'session_id',              'app.chat_sessions', true),
      ('app.episode_schedule_queue', 'project_id',              'app.projects',      false),
      ('app.episode_schedule_queue', 'episode_id',              'app.episodes',      false),
      ('app.token_usage',            'project_id',              'app.projects',      false),
      ('app.token_usage',            'episode_id',              'app.episodes',      false),
      ('app.token_usage',            'chat_session_id',         'app.chat_sessions', false),
      ('app.derived_insights',       'project_id',              'app.projects',      false),
      ('app.derived_insights',       'session_id',              'app.chat_sessions', false),
      ('app.derived_insights',       'applied_to_episode_id',   'app.episodes',      false),
      ('app.engagement_events',      'episode_id',              'app.episodes',      false),
      ('app.engagement_events',      'block_id',                'app.blocks',        false)
    ) AS v(tbl, fk, parent, with_user)
  LOOP
    -- The name these triggers had before they were ordered (re-running over an older version of this file).
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', 'tenant_' || t.fk, t.tbl);
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', '_tenant_context_' || t.fk, t.tbl);
    EXECUTE format(
      'CREATE TRIGGER %I BEFORE INSERT OR UPDATE OF %I, organization_id%s ON %s FOR EACH ROW '
      'WHEN (pg_catalog.pg_has_role(CURRENT_USER, %L, ''USAGE'') AND NOT pg_catalog.pg_has_role(CURRENT_USER, %L, ''USAGE'')) '
      'EXECUTE FUNCTION app_private.tg__tenant_context(%L, %L, %L)',
      '_tenant_context_' || t.fk, t.fk, CASE WHEN t.with_user THEN ', user_id' ELSE '' END, t.tbl,
      'pgkit_app', 'pgkit_owner', t.fk, t.parent, t.with_user);
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', '_tenant_parent_' || t.fk, t.tbl);
    EXECUTE format(
      'CREATE TRIGGER %I BEFORE INSERT OR UPDATE OF %I, organization_id%s ON %s '
      'FOR EACH ROW EXECUTE FUNCTION app_private.tg__tenant_parent(%L, %L, %L)',
      '_tenant_parent_' || t.fk, t.fk, CASE WHEN t.with_user THEN ', user_id' ELSE '' END, t.tbl, t.fk, t.parent, t.with_user);
  END LOOP;
END
$$;
