-- pgkit:no-transaction
-- 1009: the HNSW insertion of a new embedding leaves the request path (issue 15 #5). Measured at full scale on the
--   reference box (docs/loadtests.md, "Vector search through the service"): a bulk insert of 100 chunks of one block
--   spent 0.4-0.75 s inserting into the HNSW graph, in one backend, whatever else ran; the seed's target for the
--   whole insert is 500 ms (the kit's 250 ms). So:
--   * app.rag_embeddings.in_vector_index says whether a row is in the HNSW graph. A new row starts false (the
--     column's default; the application has no INSERT or UPDATE privilege on it), so its INSERT touches only the
--     b-tree indexes;
--   * the HNSW index becomes partial, WHERE in_vector_index (rag_embeddings_indexed_embedding_halfvec_idx, same
--     expression and graph parameters as sql/0830: m = 16, ef_construction = 64, seed 002 #1);
--   * the scheduled job ops.run_index_pending_embeddings (every minute, draining in committed batches, sql/1010)
--     sets the flag, which inserts the row into the graph off the request path; it warns when a row has waited
--     too long (the vector-index-backlog alarm, infra/monitoring.ts);
--   * app.search_embeddings adds an exact scan of the organization's rows not yet in the graph
--     (rag_embeddings_pending_organization_id_idx holds only those; the job reads them oldest first through
--     rag_embeddings_pending_created_at_idx), so a search sees a chunk as soon as its
--     insert commits, as before;
--   * a changed vector (an upsert of the same chunk) takes its row out of the graph again until the job puts the new
--     vector in (app_private.tg_rag_embeddings__leave_vector_index), so no write pays for the graph;
--   * entering the graph is not a change of the row: rag_embeddings_set_updated_at skips the job's UPDATE, which
--     only moves the flag to true (ops.stale_embeddings compares updated_at with the source's).
--   Existing rows are in the old graph, so the column is added with DEFAULT true (no rewrite: a constant default
--   is stored in the catalogue), the partial index is built over them, and only then does the default become
--   false. Online-safe like sql/0830: both indexes are built and dropped CONCURRENTLY, the old one only once the
--   new one is valid; a re-run after a failure picks up where it stopped.
-- Serves: seed 002 performance targets (bulk insert of 100 < 500 ms, vector search top-5 < 50 ms), seed 002 #1.

SET lock_timeout = '5s';
-- An HNSW build over the whole table: ~60-90 s for 100k vectors of 1536 dimensions on the reference box.
SET statement_timeout = '2h';
SET maintenance_work_mem = '1GB';

ALTER TABLE app.rag_embeddings ADD COLUMN IF NOT EXISTS in_vector_index boolean NOT NULL DEFAULT true;

COMMENT ON COLUMN app.rag_embeddings.in_vector_index IS
  'True once the row is in the HNSW graph (rag_embeddings_indexed_embedding_halfvec_idx); new rows start false and ops.run_index_pending_embeddings sets it. app.search_embeddings scans the rest exactly.';

CREATE INDEX CONCURRENTLY IF NOT EXISTS rag_embeddings_indexed_embedding_halfvec_idx
  ON app.rag_embeddings USING hnsw ((embedding::extensions.halfvec(1536)) extensions.halfvec_cosine_ops)
  WITH (m = 16, ef_construction = 64)
  WHERE in_vector_index;

-- The rows waiting for the graph, small in steady state: by organization for the search's exact scan, by age for
-- the job (oldest first) and its backlog alarm. The second predicate adds `created_at > '-infinity'` (true of every
-- row) so that only a query saying so, the job's, can use it: with both indexes matching `NOT in_vector_index` the
-- planner took the age index for the search too and read every waiting row of every organization, with the heap
-- row behind each entry (measured: ~27,000 buffers and 125 ms a search while the job lagged behind 100 rows/s).
CREATE INDEX CONCURRENTLY IF NOT EXISTS rag_embeddings_pending_organization_id_idx
  ON app.rag_embeddings (organization_id)
  WHERE NOT in_vector_index;
CREATE INDEX CONCURRENTLY IF NOT EXISTS rag_embeddings_pending_created_at_idx
  ON app.rag_embeddings (created_at)
  WHERE NOT in_vector_index AND created_at > '-infinity';

-- A CONCURRENTLY build that failed (timeout, cancel) leaves an invalid index that IF NOT EXISTS would take for done
-- on a re-run: stop before anything depends on them.
DO $$
DECLARE
  v_name text;
BEGIN
  FOREACH v_name IN ARRAY ARRAY['rag_embeddings_indexed_embedding_halfvec_idx', 'rag_embeddings_pending_organization_id_idx',
                                   'rag_embeddings_pending_created_at_idx'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_index x WHERE x.indexrelid = to_regclass('app.' || v_name) AND x.indisvalid) THEN
      RAISE EXCEPTION 'app.% is missing or invalid (a failed concurrent build?); app.rag_embeddings_embedding_halfvec_idx is kept', v_name
        USING HINT = format('DROP INDEX CONCURRENTLY app.%s; then apply again.', v_name);
    END IF;
  END LOOP;
END
$$;

-- From here on a new row waits for the job instead of entering the graph in its INSERT. Setting a default is
-- idempotent, so a re-run after a later failure repeats it harmlessly.
-- squawk-ignore prefer-robust-stmts
ALTER TABLE app.rag_embeddings ALTER COLUMN in_vector_index SET DEFAULT false;

-- The application names the columns of its INSERT and UPDATE (sql/0450, sql/1004): the flag is not among them.
REVOKE INSERT (in_vector_index), UPDATE (in_vector_index) ON app.rag_embeddings FROM pgkit_app;

-- The job's UPDATE only moves the flag from false to true; any other update (a changed vector takes its row out of
-- the graph, app_private.tg_rag_embeddings__leave_vector_index, which fires first: BEFORE triggers run in name
-- order and a WHEN sees the NEW row the earlier ones made) still moves updated_at.
CREATE OR REPLACE TRIGGER rag_embeddings_set_updated_at
  BEFORE UPDATE ON app.rag_embeddings
  FOR EACH ROW
  WHEN (OLD.in_vector_index OR NOT NEW.in_vector_index)
  EXECUTE FUNCTION app_private.tg__set_updated_at();

DROP INDEX CONCURRENTLY IF EXISTS app.rag_embeddings_embedding_halfvec_idx;
