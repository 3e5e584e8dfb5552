-- app.search_embeddings: the current definition of this function.
-- First created by sql/0820_search_embeddings.sql.
-- Serves: seed 002 #1 (HNSW cosine search) and performance target (top-5 < 50 ms p95), seed 001 question 4
--         (memory similarity search), seed 000 P1 (tenant scoping).
-- Since sql/1009 the HNSW graph holds only rows with in_vector_index (a scheduled job adds new rows off the request
-- path): above 1,000 rows the search takes the graph's top k and an exact top k of the organization's rows still
-- waiting for it (rag_embeddings_pending_organization_id_idx), and returns the nearest k of both.
-- pgkit:after 1009_vector_index_off_request_path.sql

-- The SET hnsw.iterative_scan clause needs pgvector's library loaded in this session: until then the setting is
-- a placeholder, which only a superuser may set (PostgreSQL 15+), and the RDS master user is not one. Reading a
-- vector value loads the library (a non-superuser cannot LOAD it).
SELECT '[0]'::extensions.vector;

CREATE OR REPLACE FUNCTION app.search_embeddings(query extensions.vector, k integer, org uuid, ef_search integer DEFAULT 100)
RETURNS TABLE (id uuid, source_type app.rag_source_type, source_id uuid, chunk_index integer, distance double precision)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET hnsw.iterative_scan = 'relaxed_order'
SET enable_sort = off
AS $$
BEGIN
  IF query IS NULL OR org IS NULL THEN
    RAISE EXCEPTION 'search_embeddings: query and org are required' USING ERRCODE = '22023';
  END IF;
  IF k IS NULL OR k < 1 OR k > 100 THEN
    RAISE EXCEPTION 'search_embeddings: k must be from 1 to 100, got %', k USING ERRCODE = '22023';
  END IF;
  IF ef_search IS NULL OR ef_search < k OR ef_search > 1000 THEN
    RAISE EXCEPTION 'search_embeddings: ef_search must be from k (%) to 1000, got %', k, ef_search USING ERRCODE = '22023';
  END IF;
  PERFORM pg_catalog.set_config('hnsw.ef_search', ef_search::text, true);
  RETURN QUERY
  WITH scope AS MATERIALIZED (
    SELECT count(*) OPERATOR(pg_catalog.<=) 1000 AS small
    FROM (SELECT 1 FROM app.rag_embeddings e0 WHERE e0.organization_id OPERATOR(pg_catalog.=) org LIMIT 1001) n
  )
  SELECT t.id, t.source_type, t.source_id, t.chunk_index, t.distance FROM (
    (SELECT e.id, e.source_type, e.source_id, e.chunk_index, e.embedding OPERATOR(extensions.<=>) query AS distance
     FROM app.rag_embeddings e
     WHERE e.organization_id OPERATOR(pg_catalog.=) org AND (SELECT s.small FROM scope s)
     ORDER BY (e.embedding OPERATOR(extensions.<=>) query) OPERATOR(pg_catalog.+) 0
     LIMIT k)
    UNION ALL
    (SELECT e.id, e.source_type, e.source_id, e.chunk_index, e.embedding OPERATOR(extensions.<=>) query AS distance
     FROM app.rag_embeddings e
     WHERE e.organization_id OPERATOR(pg_catalog.=) org AND e.in_vector_index AND NOT (SELECT s.small FROM scope s)
     ORDER BY (e.embedding::extensions.halfvec(1536)) OPERATOR(extensions.<=>) (query::extensions.halfvec(1536))
     LIMIT k)
    UNION ALL
    (SELECT e.id, e.source_type, e.source_id, e.chunk_index, e.embedding OPERATOR(extensions.<=>) query AS distance
     FROM app.rag_embeddings e
     WHERE e.organization_id OPERATOR(pg_catalog.=) org AND NOT e.in_vector_index AND NOT (SELECT s.small FROM scope s)
     ORDER BY (e.embedding OPERATOR(extensions.<=>) query) OPERATOR(pg_catalog.+) 0
     LIMIT k)
  ) t
  ORDER BY t.distance
  LIMIT k;
END
$$;
COMMENT ON FUNCTION app.search_embeddings(extensions.vector, integer, uuid, integer) IS
  'Top-k embeddings of an organization nearest to query (cosine): exact search up to 1,000 rows, above them HNSW iterative scan plus an exact scan of the rows not yet in the graph; RLS applies to the caller.';
REVOKE EXECUTE ON FUNCTION app.search_embeddings(extensions.vector, integer, uuid, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.search_embeddings(extensions.vector, integer, uuid, integer) TO pgkit_app, pgkit_maintenance;
