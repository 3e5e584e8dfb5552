-- 1011: two holes in sql/1009's queue for the HNSW graph, found in review.
--   * rag_embeddings_embedding_halfvec_range_check: the graph keys are half precision (embedding::halfvec(1536),
--     sql/0830), and pgvector refuses a component of 65520 or more in absolute value. Before sql/1009 that cast ran in
--     the INSERT, so only the request with the bad vector failed; since then the INSERT skips the partial index, the
--     row is stored, and the index job's batch fails on it, oldest first, every run: no later row of any organization
--     would enter the graph. The CHECK refuses such a vector in its INSERT or UPDATE again (23514). Every existing
--     row already passed the cast (they are in the graph), so VALIDATE finds none.
--   * The application no longer inserts created_at or updated_at (they default to now()): the job takes waiting rows
--     oldest created_at first and skips created_at = '-infinity' (its index's predicate), so a tenant could jump the
--     queue or keep its rows out of the graph for good; updated_at (when a row started waiting: a new row, or a
--     changed vector) is what the backlog alarm measures. sql/1004 had granted every column but id.
-- Serves: seed 002 #1 (HNSW), seed 002 performance targets, seed 004 #27 (grants list columns where writes must be
--         limited).
SET LOCAL lock_timeout = '5s';
-- VALIDATE reads every row (~0.8 GB at full scale); it holds SHARE UPDATE EXCLUSIVE, which writes do not wait for.
SET LOCAL statement_timeout = '30min';

REVOKE INSERT (created_at, updated_at) ON app.rag_embeddings FROM pgkit_app;

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'rag_embeddings_embedding_halfvec_range_check'
                 AND conrelid = 'app.rag_embeddings'::regclass) THEN
    -- 65520 rounds to infinity in half precision (65504 is the largest finite half).
    ALTER TABLE app.rag_embeddings ADD CONSTRAINT rag_embeddings_embedding_halfvec_range_check
      CHECK (-65520 < ALL (embedding::real[]) AND 65520 > ALL (embedding::real[])) NOT VALID;
  END IF;
END
$$;
ALTER TABLE app.rag_embeddings VALIDATE CONSTRAINT rag_embeddings_embedding_halfvec_range_check;
