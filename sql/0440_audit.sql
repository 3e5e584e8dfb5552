-- 0440: the audit trail, written by the database itself (seed 000 P1 audit_logs, seed 003 §5.3 "audit all
-- write operations, centralized, transaction-safe").
--   app_private.tg__audit(): AFTER INSERT/UPDATE/DELETE FOR EACH ROW on every business table. One row in
--     audit.audit_logs per changed row, in the same transaction (rolls back with it): who (app.current_user_id(),
--     the row's organization, the login role), what (schema.table, row id, insert|update|delete), old/new
--     values as jsonb, when (created_at, transaction_id).
--     Trigger arguments name columns whose change alone is not worth a row (counter caches, updated_at,
--     the key id a rotation moves), so counters and key rotation do not flood the trail. Ciphertext and
--     the write-only plaintext inputs are never copied into the trail.
--     SECURITY DEFINER: the application role has no privilege on audit.audit_logs at all.
--   Not audited, on purpose: append-only ledgers and event streams (token_usage, token_usage_daily,
--     user_events, engagement_events — the row is its own record and the app cannot change it) and
--     rag_embeddings (derived, regenerable, bulk-written; a vector per audit row would double its size).
--   audit.audit_logs is append-only: UPDATE, DELETE and TRUNCATE raise unless run by pgkit_owner (the
--     GDPR erasure function) or a superuser; the app role has no grant, and RLS is forced (0460).
-- Serves: seed 000 P1 (audit logging), seed 001 AuditLog, seed 003 §2.1 ("content creation with audit"
--         atomic), §5.3, seed 004 #24.

CREATE OR REPLACE FUNCTION app_private.tg__audit()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_hidden text[] := ARRAY['content', 'content_enc', 'note', 'note_enc'];
  v_ignore text[] := coalesce(TG_ARGV, ARRAY[]::text[]);
  v_old    jsonb;
  v_new    jsonb;
  v_row    jsonb;
  v_org    uuid;
  v_user   uuid := app.current_user_id();
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    v_old := pg_catalog.to_jsonb(OLD) - v_hidden;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    v_new := pg_catalog.to_jsonb(NEW) - v_hidden;
  END IF;
  IF TG_OP = 'UPDATE' AND (v_old - v_ignore) = (v_new - v_ignore) THEN
    RETURN NULL;
  END IF;
  v_row := coalesce(v_new, v_old);
  v_org := CASE
             WHEN v_row ? 'organization_id' THEN (v_row ->> 'organization_id')::uuid
             WHEN TG_TABLE_SCHEMA = 'app' AND TG_TABLE_NAME = 'organizations' THEN (v_row ->> 'id')::uuid
           END;
  INSERT INTO audit.audit_logs (organization_id, user_id, actor_kind, action, table_name, record_id,
                                old_data, new_data, metadata)
  VALUES (v_org, v_user,
          CASE WHEN v_user IS NULL THEN 'service' ELSE 'user' END::audit.actor_kind,
          pg_catalog.lower(TG_OP), TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, v_row ->> 'id',
          v_old, v_new,
          pg_catalog.jsonb_build_object('db_user', SESSION_USER::text, 'context_org_id', app.current_org_id()));
  RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION app_private.tg__audit() FROM PUBLIC;

DO $$
DECLARE
  t record;
BEGIN
  FOR t IN
    SELECT * FROM (VALUES
      ('app.organizations',          ARRAY['updated_at']),
      ('app.users',                  ARRAY['updated_at']),
      ('app.memberships',            ARRAY['updated_at']),
      ('app.projects',               ARRAY['updated_at', 'next_scheduled_at']),
      ('app.episodes',               ARRAY['updated_at', 'highlight_count', 'chat_message_count']),
      ('app.blocks',                 ARRAY['updated_at']),
      ('app.highlights',             ARRAY['updated_at']),
      ('app.planning_notes',         ARRAY['updated_at', 'note_key_id']),
      ('app.agent_memory',           ARRAY['updated_at']),
      ('app.scenarios',              ARRAY['updated_at']),
      ('app.chat_sessions',          ARRAY['updated_at', 'message_count_main', 'message_count_helper', 'last_message_at']),
      ('app.chat_messages',          ARRAY['content_key_id']),
      ('app.question_templates',     ARRAY['updated_at', 'usage_count', 'last_used_at']),
      ('app.episode_schedule_queue', ARRAY['updated_at']),
      ('app.derived_insights',       ARRAY['updated_at'])
    ) AS v(tbl, ignore_cols)
  LOOP
    EXECUTE format('CREATE OR REPLACE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON %s '
                   'FOR EACH ROW EXECUTE FUNCTION app_private.tg__audit(%s)',
                   t.tbl, (SELECT string_agg(quote_literal(c), ', ') FROM unnest(t.ignore_cols) c));
  END LOOP;
END
$$;

-- Append-only trail.
CREATE OR REPLACE FUNCTION app_private.tg_audit_logs__append_only()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF CURRENT_USER = 'pgkit_owner' OR (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = CURRENT_USER) THEN
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
  END IF;
  RAISE EXCEPTION 'audit.audit_logs is append-only (% refused for %)', TG_OP, CURRENT_USER
    USING ERRCODE = 'insufficient_privilege';
END
$$;
REVOKE ALL ON FUNCTION app_private.tg_audit_logs__append_only() FROM PUBLIC;

CREATE OR REPLACE TRIGGER audit_logs_append_only
  BEFORE UPDATE OR DELETE ON audit.audit_logs
  FOR EACH ROW EXECUTE FUNCTION app_private.tg_audit_logs__append_only();
CREATE OR REPLACE TRIGGER audit_logs_append_only_truncate
  BEFORE TRUNCATE ON audit.audit_logs
  FOR EACH STATEMENT EXECUTE FUNCTION app_private.tg_audit_logs__append_only();
