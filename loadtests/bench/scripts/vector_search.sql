-- vector_search: top-5 of the organization's embeddings through app.search_embeddings (sql/0820), as the workload service calls it; the query vector is read from loadtest.query_vectors.
\set n random(1, :nfix)
BEGIN;
SELECT app.authenticate_context(convert_from(extensions.decrypt(token_sealed, decode(:runkey, 'hex'), 'aes'), 'UTF8')) AS x, org_id AS o, user_id AS u, project_id AS p, episode_id AS e, block_id AS b, session_id AS s, topic AS t, focus AS f FROM loadtest.fixtures WHERE n = :n \gset
SELECT s.id, s.source_type, s.source_id, s.chunk_index, s.distance FROM loadtest.query_vectors q CROSS JOIN LATERAL app.search_embeddings(q.embedding, 5, :o, :ef) s WHERE q.topic = :t;
END;
