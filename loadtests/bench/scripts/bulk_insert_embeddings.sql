-- bulk_insert_embeddings: 100 chunk embeddings of a block in one statement (upsert on the source key), as the workload service writes them. The vectors are fresh draws near one topic per batch, as a block's chunks are (loadtest.bulk_vectors, made by the benchmark: aligned batches of 100 share a topic), never copies of the query vectors; chunk indexes from the chunkbase variable (900,000, loadtests/lib/workload.ts) up mark them as load-test rows, removed after the run.
\set n random(1, :nfix)
\set k 1 + 100 * random(0, :nbulk / 100 - 1)
\set c :chunkbase + random(0, 989) * 100
BEGIN;
SELECT app.authenticate_context(convert_from(extensions.decrypt(token_sealed, decode(:runkey, 'hex'), 'aes'), 'UTF8')) AS x, org_id AS o, user_id AS u, project_id AS p, episode_id AS e, block_id AS b, session_id AS s, topic AS t, focus AS f FROM loadtest.fixtures WHERE n = :n \gset
INSERT INTO app.rag_embeddings (organization_id, source_type, source_id, chunk_index, embedding) SELECT :o::uuid, 'block', :b::uuid, :c::int + (v.n - :k::int), v.embedding FROM loadtest.bulk_vectors v WHERE v.n >= :k AND v.n < :k + 100 ON CONFLICT (source_type, source_id, chunk_index, embedding_model) DO UPDATE SET embedding = EXCLUDED.embedding;
END;
