-- session_embedding_lookup: a chat session's embedding(s) by the source key.
\set n random(1, :nfix)
BEGIN;
SELECT app.authenticate_context(convert_from(extensions.decrypt(token_sealed, decode(:runkey, 'hex'), 'aes'), 'UTF8')) AS x, org_id AS o, user_id AS u, project_id AS p, episode_id AS e, block_id AS b, session_id AS s, topic AS t, focus AS f FROM loadtest.fixtures WHERE n = :n \gset
SELECT id, chunk_index, embedding_model, embedding FROM app.rag_embeddings WHERE source_type = 'chat_session' AND source_id = :s ORDER BY chunk_index;
END;
