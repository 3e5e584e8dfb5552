-- 0450: least privilege and tenant isolation.
-- Privileges
--   PUBLIC: no CREATE on any schema, no TEMPORARY on the database, no EXECUTE on our functions unless
--     granted by name (default privileges make that hold for functions created later too).
--   pgkit_app (the only role of the application and PgBouncer): USAGE on app; per table the commands
--     (and for UPDATE the columns) its canonical operations need; nothing in app_private or audit; no
--     DELETE on soft-deleted tables (soft delete and GDPR erasure go through functions, 0470); never a
--     grant on a partition, so writing into a partition directly is refused.
--   pgkit_readonly: SELECT on app (users without email) and ops.logs; pgkit_maintenance: DML on app and
--     ops; pgkit_anon: only the public views (0480). New tables get readonly/maintenance grants by default
--     privileges; the app role's grants are always written by hand, with their policies first.
-- Row-level security
--   ENABLED and FORCED on every table holding tenant or user data (any table with organization_id or
--   user_id, plus users, organizations and the catalogues), and on their partitions. Policies, one per
--   role and command:
--     <t>_owner_all   pgkit_owner: everything (the SECURITY DEFINER functions it owns);
--     <t>_app_<cmd>   pgkit_app: organization_id = (select app.current_org_id()), and user_id =
--                     (select app.current_user_id()) for a user's own rows (chat sessions and messages,
--                     highlights, events, own profile), deleted_at IS NULL for reads of soft-deleted tables;
--     <t>_readonly_select, <t>_maintenance_all: all rows (cross-tenant analytics and jobs).
--   A NULL or malformed context matches nothing.
-- Serves: seed 000 P1 (RLS on all tables, org-scoped policies, soft deletes hidden), seed 002 #3 (own
--         session embeddings + template embeddings; enabled templates for signed-in users), seed 003 §3.4,
--         seed 004 #18 (direct user_id comparison), #24 (logs: own read, inserts through a function),
--         #27 (no INSERT policy on profiles), #28 (scenarios).
-- pgkit:replaces sha256:2a36c1b7f2df3913ec2eaf6d4b2e2bb7e616289777496c6e087a71a77476d103
-- What this file wrote of functions and views (their definitions, grants, comments and triggers) now lives in
--   sql/definitions/: app_private.is_valid_timezone.sql, app.current_user_id.sql, app.current_org_id.sql,
--   app.decrypt_text.sql, app_private.register_encryption_key.sql, app_private.activate_encryption_key.sql,
--   app_private.encrypted_rows_by_key.sql, app_private.retire_encryption_key.sql,
--   app_private.start_key_rotation.sql, app_private.reencrypt_batch.sql, app_private.finish_key_rotation.sql.

-- ---------------------------------------------------------------- schemas, database, defaults
REVOKE CREATE ON SCHEMA app, app_private, audit, ops, extensions, pgbouncer FROM PUBLIC;
REVOKE ALL ON SCHEMA app_private, audit FROM PUBLIC;
DO $$
BEGIN
  EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END
$$;

GRANT USAGE ON SCHEMA app TO pgkit_app, pgkit_readonly, pgkit_maintenance, pgkit_anon;
GRANT USAGE ON SCHEMA ops TO pgkit_app, pgkit_readonly, pgkit_maintenance;
GRANT USAGE ON SCHEMA app_private TO pgkit_maintenance;
GRANT pgkit_anon TO pgkit_app;

-- Functions: nothing for PUBLIC; what each role may call is granted by name.
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA app, app_private, audit, ops FROM PUBLIC;

GRANT SELECT ON app_private.encryption_keys, app_private.key_rotations TO pgkit_maintenance;

-- Future objects: functions are not executable by PUBLIC; readonly and maintenance get their table grants.
-- (Default privileges belong to the creating role: the migration user, and pgkit_owner.)
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO pgkit_readonly;
ALTER DEFAULT PRIVILEGES IN SCHEMA app, ops GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO pgkit_maintenance;
ALTER DEFAULT PRIVILEGES FOR ROLE pgkit_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE pgkit_owner IN SCHEMA app GRANT SELECT ON TABLES TO pgkit_readonly;
ALTER DEFAULT PRIVILEGES FOR ROLE pgkit_owner IN SCHEMA app, ops GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO pgkit_maintenance;

-- ---------------------------------------------------------------- RLS on, owner policy, every tenant table
DO $$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT c.oid::regclass AS rel
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname IN ('app', 'audit', 'ops') AND c.relkind IN ('r', 'p')
      AND (EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname IN ('organization_id', 'user_id') AND NOT a.attisdropped)
           OR c.oid IN ('app.users'::regclass, 'app.organizations'::regclass, 'app.scenarios'::regclass, 'app.question_templates'::regclass))
  LOOP
    PERFORM app_private.close_tenant_table(r.rel);
  END LOOP;
END
$$;

-- ---------------------------------------------------------------- policies (before their grants)
-- Expressions shared by the policies.
--   ORG  organization_id = (SELECT app.current_org_id())
--   USR  user_id = (SELECT app.current_user_id())
DO $$
DECLARE
  org  constant text := 'organization_id = (SELECT app.current_org_id())';
  usr  constant text := 'user_id = (SELECT app.current_user_id())';
  live constant text := 'deleted_at IS NULL';
  p record;
BEGIN
  FOR p IN
    SELECT * FROM (VALUES
      -- table, command, USING, WITH CHECK
      ('app.organizations', 'select', 'id = (SELECT app.current_org_id()) AND ' || live, NULL),
      ('app.organizations', 'update', 'id = (SELECT app.current_org_id()) AND ' || live, 'id = (SELECT app.current_org_id())'),
      ('app.users', 'select', 'id = (SELECT app.current_user_id()) AND ' || live, NULL),
      ('app.users', 'update', 'id = (SELECT app.current_user_id()) AND ' || live, 'id = (SELECT app.current_user_id())'),
      ('app.memberships', 'select', org || ' AND ' || live, NULL),
      ('app.projects', 'select', org || ' AND ' || live, NULL),
      ('app.projects', 'insert', NULL, org),
      ('app.projects', 'update', org || ' AND ' || live, org),
      ('app.episodes', 'select', org || ' AND ' || live, NULL),
      ('app.episodes', 'insert', NULL, org),
      ('app.episodes', 'update', org || ' AND ' || live, org),
      ('app.blocks', 'select', org || ' AND ' || live, NULL),
      ('app.blocks', 'insert', NULL, org),
      ('app.blocks', 'update', org || ' AND ' || live, org),
      ('app.highlights', 'select', org || ' AND ' || usr || ' AND ' || live, NULL),
      ('app.highlights', 'insert', NULL, org || ' AND ' || usr),
      ('app.highlights', 'update', org || ' AND ' || usr || ' AND ' || live, org || ' AND ' || usr),
      ('app.planning_notes', 'select', org || ' AND ' || live, NULL),
      ('app.planning_notes', 'insert', NULL, org || ' AND ' || usr),
      ('app.planning_notes', 'update', org || ' AND ' || live, org),
      ('app.agent_memory', 'select', org || ' AND ' || live, NULL),
      ('app.agent_memory', 'insert', NULL, org),
      ('app.agent_memory', 'update', org || ' AND ' || live, org),
      ('app.chat_sessions', 'select', org || ' AND ' || usr || ' AND ' || live, NULL),
      ('app.chat_sessions', 'insert', NULL, org || ' AND ' || usr),
      ('app.chat_sessions', 'update', org || ' AND ' || usr || ' AND ' || live, org || ' AND ' || usr),
      ('app.chat_messages', 'select', org || ' AND ' || usr || ' AND ' || live, NULL),
      ('app.chat_messages', 'insert', NULL, org || ' AND ' || usr),
      ('app.episode_schedule_queue', 'select', org, NULL),
      ('app.episode_schedule_queue', 'insert', NULL, org),
      ('app.token_usage', 'select', org, NULL),
      ('app.token_usage', 'insert', NULL, org || ' AND (user_id IS NULL OR ' || usr || ')'),
      ('app.token_usage_daily', 'select', org, NULL),
      ('app.derived_insights', 'select', org || ' AND ' || live, NULL),
      ('app.derived_insights', 'insert', NULL, org),
      ('app.derived_insights', 'update', org || ' AND ' || live, org),
      -- seed 002 #3: own organization's embeddings (sessions are further limited by chat_sessions' own
      -- policy when joined) plus the global template embeddings; templates are written by the owner.
      ('app.rag_embeddings', 'select', '(' || org || ' OR (organization_id IS NULL AND source_type = ''question_template''))', NULL),
      ('app.rag_embeddings', 'insert', NULL, org),
      ('app.rag_embeddings', 'update', org, org),
      ('app.rag_embeddings', 'delete', org, NULL),
      ('app.user_events', 'select', org || ' AND ' || usr, NULL),
      ('app.user_events', 'insert', NULL, org || ' AND ' || usr),
      ('app.engagement_events', 'select', org || ' AND ' || usr, NULL),
      ('app.engagement_events', 'insert', NULL, org || ' AND ' || usr),
      ('app.scenarios', 'select', 'is_published AND ' || live, NULL),
      ('app.question_templates', 'select', 'enabled AND ' || live || ' AND (SELECT app.current_user_id()) IS NOT NULL', NULL),
      ('ops.logs', 'select', usr, NULL)
    ) AS v(tbl, cmd, using_expr, check_expr)
  LOOP
    EXECUTE format('DROP POLICY IF EXISTS %I ON %s', split_part(p.tbl, '.', 2) || '_app_' || p.cmd, p.tbl);
    EXECUTE format('CREATE POLICY %I ON %s AS PERMISSIVE FOR %s TO pgkit_app%s%s',
                   split_part(p.tbl, '.', 2) || '_app_' || p.cmd, p.tbl, upper(p.cmd),
                   CASE WHEN p.using_expr IS NULL THEN '' ELSE ' USING (' || p.using_expr || ')' END,
                   CASE WHEN p.check_expr IS NULL THEN '' ELSE ' WITH CHECK (' || p.check_expr || ')' END);
  END LOOP;
END
$$;

-- The public catalogue rows for unauthenticated readers (through the views of 0480 only).
DROP POLICY IF EXISTS scenarios_anon_select ON app.scenarios;
CREATE POLICY scenarios_anon_select ON app.scenarios AS PERMISSIVE FOR SELECT TO pgkit_anon
  USING (is_published AND deleted_at IS NULL);
DROP POLICY IF EXISTS question_templates_anon_select ON app.question_templates;
CREATE POLICY question_templates_anon_select ON app.question_templates AS PERMISSIVE FOR SELECT TO pgkit_anon
  USING (enabled AND deleted_at IS NULL);

-- Analytics and jobs see every tenant (they are not the application); their policies on every RLS table of app/ops.
DO $$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT c.oid::regclass AS rel, c.relname
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname IN ('app', 'ops') AND c.relkind IN ('r', 'p') AND c.relrowsecurity AND NOT c.relispartition
  LOOP
    EXECUTE format('DROP POLICY IF EXISTS %I ON %s', r.relname || '_readonly_select', r.rel);
    EXECUTE format('CREATE POLICY %I ON %s AS PERMISSIVE FOR SELECT TO pgkit_readonly USING (true)', r.relname || '_readonly_select', r.rel);
    EXECUTE format('DROP POLICY IF EXISTS %I ON %s', r.relname || '_maintenance_all', r.rel);
    EXECUTE format('CREATE POLICY %I ON %s AS PERMISSIVE FOR ALL TO pgkit_maintenance USING (true) WITH CHECK (true)', r.relname || '_maintenance_all', r.rel);
  END LOOP;
END
$$;

-- ---------------------------------------------------------------- grants (after their policies)
REVOKE ALL ON ALL TABLES IN SCHEMA app, app_private, audit, ops FROM PUBLIC, pgkit_app, pgkit_anon;

GRANT SELECT ON app.organizations TO pgkit_app;
GRANT UPDATE (name) ON app.organizations TO pgkit_app;
GRANT SELECT ON app.users TO pgkit_app;
GRANT UPDATE (display_name, timezone) ON app.users TO pgkit_app;
GRANT SELECT ON app.memberships TO pgkit_app;
GRANT SELECT, INSERT ON app.projects TO pgkit_app;
GRANT UPDATE (name, description, cadence_config, next_scheduled_at, is_paused) ON app.projects TO pgkit_app;
GRANT SELECT, INSERT ON app.episodes TO pgkit_app;
GRANT UPDATE (title, status, published_at, generation_attempts, generation_errors) ON app.episodes TO pgkit_app;
GRANT SELECT, INSERT ON app.blocks TO pgkit_app;
GRANT UPDATE (type, position, content, reasoning, confidence, research_citations, metadata_version,
              generation_metadata, token_count) ON app.blocks TO pgkit_app;
GRANT SELECT, INSERT ON app.highlights TO pgkit_app;
GRANT UPDATE (note, quote, start_offset, end_offset) ON app.highlights TO pgkit_app;
GRANT SELECT ON app.planning_notes TO pgkit_app;
GRANT INSERT (id, organization_id, project_id, user_id, note, status, processed_at, incorporated_episode_id, created_at)
  ON app.planning_notes TO pgkit_app;
GRANT UPDATE (note, status, processed_at, incorporated_episode_id) ON app.planning_notes TO pgkit_app;
GRANT SELECT, INSERT ON app.agent_memory TO pgkit_app;
GRANT UPDATE (memory_type, content, importance, expires_at) ON app.agent_memory TO pgkit_app;
GRANT SELECT ON app.scenarios TO pgkit_app;
GRANT SELECT, INSERT ON app.chat_sessions TO pgkit_app;
GRANT UPDATE (title, is_completed, completed_at) ON app.chat_sessions TO pgkit_app;
GRANT SELECT ON app.chat_messages TO pgkit_app;
GRANT INSERT (id, organization_id, session_id, user_id, role, chat_type, content, client_message_id, created_at)
  ON app.chat_messages TO pgkit_app;
GRANT SELECT ON app.question_templates TO pgkit_app;
GRANT SELECT, INSERT, DELETE ON app.rag_embeddings TO pgkit_app;
GRANT UPDATE (content, embedding, embedding_model, token_count) ON app.rag_embeddings TO pgkit_app;
GRANT SELECT, INSERT ON app.episode_schedule_queue TO pgkit_app;
GRANT SELECT, INSERT ON app.token_usage TO pgkit_app;
GRANT SELECT ON app.token_usage_daily TO pgkit_app;
GRANT SELECT, INSERT ON app.derived_insights TO pgkit_app;
GRANT UPDATE (applied_to_episode_id, applied_at) ON app.derived_insights TO pgkit_app;
GRANT SELECT, INSERT ON app.user_events TO pgkit_app;
GRANT SELECT, INSERT ON app.engagement_events TO pgkit_app;
GRANT SELECT ON app.engagement_event_types TO pgkit_app;
GRANT SELECT ON ops.logs, ops.log_event_types TO pgkit_app;
GRANT SELECT ON app.chat_messages_decrypted, app.planning_notes_decrypted TO pgkit_app;

-- Analytics: everything in app except e-mail addresses, the decrypting views and the operational log.
DO $$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT c.oid::regclass AS rel FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'app' AND c.relkind IN ('r', 'p', 'v') AND NOT c.relispartition
      AND c.oid NOT IN ('app.users'::regclass, 'app.chat_messages_decrypted'::regclass, 'app.planning_notes_decrypted'::regclass)
  LOOP
    EXECUTE format('GRANT SELECT ON %s TO pgkit_readonly', r.rel);
  END LOOP;
END
$$;
GRANT SELECT (id, display_name, timezone, weekly_completion_limit, current_week_completion_count,
              completed_scenario_count, week_reset_date, created_at, updated_at, deleted_at, deleted_by)
  ON app.users TO pgkit_readonly;
GRANT SELECT ON ops.logs, ops.log_event_types TO pgkit_readonly;

-- Jobs: DML (never TRUNCATE) on app and ops parents.
DO $$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT c.oid::regclass AS rel FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname IN ('app', 'ops') AND c.relkind IN ('r', 'p') AND NOT c.relispartition
  LOOP
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO pgkit_maintenance', r.rel);
  END LOOP;
END
$$;
