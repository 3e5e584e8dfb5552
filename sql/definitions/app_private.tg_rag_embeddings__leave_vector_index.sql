-- app_private.tg_rag_embeddings__leave_vector_index: the current definition of this function and the trigger that
-- calls it. An UPDATE that changes a row's vector (the bulk insert's upsert of a chunk already written, an UPDATE of
-- embedding) clears in_vector_index, so the new version stays out of the partial HNSW index and the write does not
-- pay for a graph insertion; ops.run_index_pending_embeddings puts it in, and app.search_embeddings meanwhile finds
-- it by its exact scan of waiting rows (sql/1009, issue 15 #5). Named so it fires before rag_embeddings_set_updated_at
-- (BEFORE triggers run in name order), whose WHEN then sees the row leave the graph and still moves updated_at.
-- Serves: seed 002 performance targets (bulk insert of 100 < 500 ms).
-- pgkit:after 1009_vector_index_off_request_path.sql

CREATE OR REPLACE FUNCTION app_private.tg_rag_embeddings__leave_vector_index()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF NEW.embedding OPERATOR(extensions.<>) OLD.embedding THEN
    NEW.in_vector_index := false;
  END IF;
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION app_private.tg_rag_embeddings__leave_vector_index() IS
  'BEFORE UPDATE OF embedding trigger on app.rag_embeddings: a changed vector leaves the HNSW graph until ops.run_index_pending_embeddings puts it back (sql/1009).';
REVOKE ALL ON FUNCTION app_private.tg_rag_embeddings__leave_vector_index() FROM PUBLIC;

CREATE OR REPLACE TRIGGER rag_embeddings_leave_vector_index
  BEFORE UPDATE OF embedding ON app.rag_embeddings
  FOR EACH ROW EXECUTE FUNCTION app_private.tg_rag_embeddings__leave_vector_index();
