-- vector_search: top-5 of the organization's embeddings (same SQL as loadtests/lib/vector.ts).
\set n random(1, :nfix)
BEGIN;
SELECT set_config('app.org_id', org_id::text, true) AS o, set_config('app.user_id', user_id::text, true) AS u, project_id AS p, episode_id AS e, block_id AS b, session_id AS s, topic AS t, focus AS f FROM loadtest.fixtures WHERE n = :n \gset
SET LOCAL hnsw.ef_search = :ef;
SET LOCAL hnsw.iterative_scan = relaxed_order;
SELECT id, source_type, source_id, chunk_index, distance FROM (SELECT e.id, e.source_type, e.source_id, e.chunk_index, e.embedding <=> q.embedding AS distance FROM app.rag_embeddings e, (SELECT embedding FROM loadtest.query_vectors WHERE topic = :t) q WHERE e.organization_id = ':o' ORDER BY e.embedding <=> (SELECT embedding FROM loadtest.query_vectors WHERE topic = :t) LIMIT 5) top ORDER BY distance;
END;
