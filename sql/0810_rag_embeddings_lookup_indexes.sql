-- pgkit:no-transaction
-- 0810: two indexes on app.rag_embeddings the application role's plans need (measured, docs/loadtests.md).
-- Under row-level security a query's own predicates run after the policy's unless their operators are
-- leakproof; enum equality is not, so `source_type = 'chat_session'` could not reach the unique key
-- (source_type, source_id, chunk_index, embedding_model), and `organization_id = x` could not be answered
-- from the organization index alone, because the select policy also reads source_type.
--   rag_embeddings_source_id_idx (source_id): the session-embedding lookup. uuid equality is leakproof, so the
--     lookup becomes one index probe. Before: a bitmap scan over every embedding of the organization
--     (10,989 heap pages for the largest, 27 ms, p95 12 ms at 2 clients).
--   rag_embeddings_organization_id_source_type_idx (organization_id, source_type): holds every column of the
--     select policy, so the vector search's count of an organization's rows (loadtests/lib/vector.ts, up to
--     1,001) is an index-only scan instead of 1,001 heap pages of 6 KB rows; it replaces the partial
--     (organization_id) index as the foreign key's index and serves the policy's template arm
--     (organization_id IS NULL) too.
-- Online-safe: CONCURRENTLY, IF [NOT] EXISTS, the new index is built before the old one is dropped.
-- Serves: seed 002 performance targets (session embedding lookup < 20 ms, vector search top-5 < 50 ms),
--         seed 004 #18 (RLS that stays cheap), seed 000 P4 (indexes for the access paths).

SET lock_timeout = '5s';
-- An index build reads the whole table: minutes at most at the load-test scale (100k rows: ~1 s each).
SET statement_timeout = '30min';

CREATE INDEX CONCURRENTLY IF NOT EXISTS rag_embeddings_source_id_idx
  ON app.rag_embeddings (source_id);

CREATE INDEX CONCURRENTLY IF NOT EXISTS rag_embeddings_organization_id_source_type_idx
  ON app.rag_embeddings (organization_id, source_type);

-- Drop the old index only if the new one is valid: a CONCURRENTLY build that failed (timeout, cancel) leaves an
-- invalid index that IF NOT EXISTS would take for done on a re-run.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_index x WHERE x.indexrelid = to_regclass('app.rag_embeddings_organization_id_source_type_idx') AND x.indisvalid) THEN
    RAISE EXCEPTION 'app.rag_embeddings_organization_id_source_type_idx is missing or invalid (a failed concurrent build?); app.rag_embeddings_organization_id_idx is kept'
      USING HINT = 'DROP INDEX CONCURRENTLY app.rag_embeddings_organization_id_source_type_idx; then apply again.';
  END IF;
END
$$;

DROP INDEX CONCURRENTLY IF EXISTS app.rag_embeddings_organization_id_idx;
