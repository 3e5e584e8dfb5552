-- pgkit:no-transaction
-- 0881: the app's row-level security on app.rag_embeddings now reads source_id too (sql/0880: a template
-- embedding is visible only while its template is), so the index that answers the vector search's scope count
-- alone (an index-only scan, sql/0810, sql/0820) must hold it: (organization_id, source_type, source_id)
-- replaces (organization_id, source_type). Built concurrently; the old index is dropped only when the new one is
-- valid.
-- Serves: seed 002 #1 (vector search within its performance target), seed 002 #3 (embedding scope).

SET lock_timeout = '5s';
SET statement_timeout = '30min';

CREATE INDEX CONCURRENTLY IF NOT EXISTS rag_embeddings_organization_id_source_type_source_id_idx
  ON app.rag_embeddings (organization_id, source_type, source_id);

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_index x WHERE x.indexrelid = to_regclass('app.rag_embeddings_organization_id_source_type_source_id_idx') AND x.indisvalid) THEN
    RAISE EXCEPTION 'app.rag_embeddings_organization_id_source_type_source_id_idx is missing or invalid (a failed concurrent build?); app.rag_embeddings_organization_id_source_type_idx is kept'
      USING HINT = 'DROP INDEX CONCURRENTLY app.rag_embeddings_organization_id_source_type_source_id_idx; then apply again.';
  END IF;
END
$$;

DROP INDEX CONCURRENTLY IF EXISTS app.rag_embeddings_organization_id_source_type_idx;
