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
-- pgkit:replaces sha256:6e2201d19c45d8b75ee474d3fc213d6ae4744dc01b61c7b6ecd5c3bf79465454
-- What this file wrote of functions and views (their definitions, grants, comments and triggers) now lives in
--   sql/definitions/: app_private.tg__audit.sql, app_private.tg_audit_logs__append_only.sql.

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
