-- ops.stale_embeddings: embeddings to compute again, oldest first (seed 002, Post-Deployment: "staleness of
--   embeddings by updated_at and embedding_model"): those made by another model than the current one, and those
--   whose source (block, chat session, question template, agent memory) changed after the embedding was written.
--   For the operator and the re-embedding job (pgkit_maintenance): it reads every organization.
-- Serves: seed 002 Post-Deployment Week 1 (embedding freshness), seed 002 #5 (embedding_model, updated_at).
-- pgkit:after 0780_updated_at_everywhere.sql

CREATE OR REPLACE FUNCTION ops.stale_embeddings(p_current_model text, p_limit integer DEFAULT 1000)
RETURNS TABLE (embedding_id uuid, organization_id uuid, source_type app.rag_source_type, source_id uuid, chunk_index integer,
               embedding_model text, embedded_at timestamptz, source_updated_at timestamptz, reason text)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT e.id, e.organization_id, e.source_type, e.source_id, e.chunk_index, e.embedding_model, e.updated_at, s.updated_at,
         CASE WHEN e.embedding_model OPERATOR(pg_catalog.<>) p_current_model THEN 'model' ELSE 'source changed' END
  FROM app.rag_embeddings e
  LEFT JOIN LATERAL (
    SELECT b.updated_at FROM app.blocks b WHERE e.source_type = 'block' AND b.id = e.source_id
    UNION ALL SELECT c.updated_at FROM app.chat_sessions c WHERE e.source_type = 'chat_session' AND c.id = e.source_id
    UNION ALL SELECT q.updated_at FROM app.question_templates q WHERE e.source_type = 'question_template' AND q.id = e.source_id
    UNION ALL SELECT a.updated_at FROM app.agent_memory a WHERE e.source_type = 'agent_memory' AND a.id = e.source_id
  ) s ON true
  WHERE e.embedding_model OPERATOR(pg_catalog.<>) p_current_model OR s.updated_at OPERATOR(pg_catalog.>) e.updated_at
  ORDER BY e.updated_at, e.id
  LIMIT greatest(coalesce(p_limit, 1000), 0)
$$;
COMMENT ON FUNCTION ops.stale_embeddings(text, integer) IS
  'Embeddings made by another model than p_current_model, or older than their source''s last change, oldest first (reason: model | source changed).';
REVOKE ALL ON FUNCTION ops.stale_embeddings(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.stale_embeddings(text, integer) TO pgkit_maintenance;
