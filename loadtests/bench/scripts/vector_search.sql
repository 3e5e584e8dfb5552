-- vector_search: top-5 of the organization's embeddings (same SQL as loadtests/lib/vector.ts VECTOR_SEARCH_SQL: exact over the organization's rows up to EXACT_SCAN_MAX_ROWS of them, passed as the exactmax variable, HNSW iterative scan above; the query vector is read from loadtest.query_vectors).
\set n random(1, :nfix)
BEGIN \;
SELECT set_config('app.org_id', org_id::text, true) AS o, set_config('app.user_id', user_id::text, true) AS u, set_config('app.ctx_xact', app.context_stamp(), true) AS x, project_id AS p, episode_id AS e, block_id AS b, session_id AS s, topic AS t, focus AS f FROM loadtest.fixtures WHERE n = :n \gset
SET LOCAL hnsw.ef_search = :ef;
SET LOCAL hnsw.iterative_scan = relaxed_order;
SET LOCAL enable_sort = off;
WITH q AS MATERIALIZED (SELECT embedding FROM loadtest.query_vectors WHERE topic = :t), scope AS MATERIALIZED (SELECT count(*) <= :exactmax AS small FROM (SELECT 1 FROM app.rag_embeddings WHERE organization_id = ':o' LIMIT :exactmax + 1) n) SELECT id, source_type, source_id, chunk_index, distance FROM ((SELECT e.id, e.source_type, e.source_id, e.chunk_index, e.embedding <=> (SELECT embedding FROM q) AS distance FROM app.rag_embeddings e WHERE e.organization_id = ':o' AND (SELECT small FROM scope) ORDER BY (e.embedding <=> (SELECT embedding FROM q)) + 0 LIMIT 5) UNION ALL (SELECT e.id, e.source_type, e.source_id, e.chunk_index, e.embedding <=> (SELECT embedding FROM q) AS distance FROM app.rag_embeddings e WHERE e.organization_id = ':o' AND NOT (SELECT small FROM scope) ORDER BY e.embedding <=> (SELECT embedding FROM q) LIMIT 5)) top ORDER BY distance;
END;
