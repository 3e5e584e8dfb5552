-- bulk_insert_embeddings: 100 chunk embeddings of a block in one statement (upsert on the source key).
\set n random(1, :nfix)
BEGIN \;
SELECT set_config('app.org_id', org_id::text, true) AS o, set_config('app.user_id', user_id::text, true) AS u, set_config('app.ctx_xact', app.context_stamp(), true) AS x, project_id AS p, episode_id AS e, block_id AS b, session_id AS s, topic AS t, focus AS f FROM loadtest.fixtures WHERE n = :n \gset
\set c random(1, 100000) * 100
INSERT INTO app.rag_embeddings (organization_id, source_type, source_id, chunk_index, embedding) SELECT ':o', 'block', ':b', :c + q.topic, q.embedding FROM loadtest.query_vectors q WHERE q.topic < 100 ON CONFLICT (source_type, source_id, chunk_index, embedding_model) DO UPDATE SET embedding = EXCLUDED.embedding;
END;
