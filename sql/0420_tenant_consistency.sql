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
-- pgkit:replaces sha256:da25c169628b5e1d02e053bec4aaa1092fb0b91c4fea2f41ae4a86a88dca5c10
-- What this file wrote of functions and views (their definitions, grants, comments and triggers) now lives in
--   sql/definitions/: app_private.raise_tenant_fkey.sql, app_private.tg__tenant_parent.sql,
--   app_private.tg__tenant_context.sql.

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
