-- ops.run_index_pending_embeddings(p_batch, p_max_seconds): the scheduled job that keeps the HNSW graph up with the
-- embeddings written (sql/1009, issue 15 #5). Calls ops.job_index_pending_embeddings once per batch and COMMITs after
-- each, so no transaction holds the row locks of more than one batch (a request deleting a block waits for one batch
-- at most, ~0.5-1 s on the reference box). Stops when a batch was not full, failed (logged by the job), was skipped
-- (another run holds the job lock) or after p_max_seconds, so a minute's run ends before the next one is due and a
-- long backlog is worked through by one run after another.
-- A procedure, so it may COMMIT: SECURITY INVOKER and without a SET clause (PostgreSQL refuses transaction control in
-- either); everything it calls is schema-qualified. Run it with CALL outside a transaction block (pg_cron does:
-- sql/definitions/ops.job_definitions.sql).
-- Serves: seed 002 performance targets (bulk insert of 100 < 500 ms), seed 004 #32, #45.
-- pgkit:after 1009_vector_index_off_request_path.sql
-- pgkit:requires ops.job_index_pending_embeddings

CREATE OR REPLACE PROCEDURE ops.run_index_pending_embeddings(p_batch integer DEFAULT 100, p_max_seconds integer DEFAULT 50)
LANGUAGE plpgsql
AS $$
DECLARE
  v_until timestamptz := pg_catalog.clock_timestamp() OPERATOR(pg_catalog.+) pg_catalog.make_interval(secs => coalesce(p_max_seconds, 0));
  r jsonb;
BEGIN
  IF p_max_seconds IS NULL OR p_max_seconds < 1 THEN
    RAISE EXCEPTION 'run_index_pending_embeddings: max_seconds must be >= 1, got %', p_max_seconds USING ERRCODE = 'invalid_parameter_value';
  END IF;
  LOOP
    r := ops.job_index_pending_embeddings(p_batch);
    COMMIT;
    EXIT WHEN (r OPERATOR(pg_catalog.->>) 'status') IS DISTINCT FROM 'completed'
           OR NOT coalesce((r OPERATOR(pg_catalog.->>) 'more')::boolean, false)
           OR pg_catalog.clock_timestamp() OPERATOR(pg_catalog.>=) v_until;
  END LOOP;
END
$$;
COMMENT ON PROCEDURE ops.run_index_pending_embeddings(integer, integer) IS
  'Embeddings put into the HNSW graph, one committed transaction per batch, for at most p_max_seconds (sql/1009); CALL it outside a transaction block.';
REVOKE ALL ON PROCEDURE ops.run_index_pending_embeddings(integer, integer) FROM PUBLIC;
GRANT EXECUTE ON PROCEDURE ops.run_index_pending_embeddings(integer, integer) TO pgkit_maintenance;
