-- ops.job_index_pending_embeddings(p_batch, p_backlog_alarm): one logged run that puts the oldest p_batch embeddings
-- not yet in the HNSW graph into it (sets in_vector_index, sql/1009), so the graph insertion happens here and not
-- in the request that wrote them (issue 15 #5). FOR UPDATE SKIP LOCKED: rows a request is changing are left for the
-- next batch, and two runs never take the same row. Afterwards, when a row still waiting has waited (since its
-- updated_at: written, or its vector changed) longer than p_backlog_alarm, it logs vector_index_backlog (level warn)
-- and writes one WARNING line to the server log ("pgkit vector index backlog", the CloudWatch metric filter of
-- infra/monitoring.ts): the job does not keep up, and every search of an organization with waiting rows scans them
-- exactly.
-- The result adds `more` (a full batch was done) and the backlog: `pending` (counted up to 100,001) and
-- `oldest_pending_seconds`. The scheduled job is ops.run_index_pending_embeddings, which COMMITs between batches.
-- Serves: seed 002 performance targets (bulk insert of 100 < 500 ms), seed 004 #32, #45 (jobs logged).
-- pgkit:after 1009_vector_index_off_request_path.sql

CREATE OR REPLACE FUNCTION ops.job_index_pending_embeddings(p_batch integer DEFAULT 100, p_backlog_alarm interval DEFAULT '5 minutes')
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_job text := 'index_pending_embeddings'; v_id uuid; v_started timestamptz := pg_catalog.clock_timestamp(); v_rows bigint;
  v_pending bigint; v_oldest timestamptz; v_age interval; v_wait double precision;
  v_state text; v_msg text; v_ctx text;
BEGIN
  v_id := ops.job_begin(v_job, pg_catalog.jsonb_build_object('batch', p_batch, 'backlog_alarm', p_backlog_alarm));
  IF v_id IS NULL THEN RETURN pg_catalog.jsonb_build_object('job', v_job, 'status', 'skipped'); END IF;
  BEGIN
    IF p_batch IS NULL OR p_batch < 1 OR p_batch > 10000 THEN
      RAISE EXCEPTION 'index_pending_embeddings: batch must be from 1 to 10000, got %', p_batch USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_backlog_alarm IS NULL OR p_backlog_alarm <= interval '0' THEN
      RAISE EXCEPTION 'index_pending_embeddings: backlog_alarm must be a positive interval, got %', p_backlog_alarm USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE app.rag_embeddings e SET in_vector_index = true
    FROM (SELECT p.id FROM app.rag_embeddings p
          -- created_at > '-infinity': the predicate of rag_embeddings_pending_created_at_idx (sql/1009)
          WHERE NOT p.in_vector_index AND p.created_at OPERATOR(pg_catalog.>) '-infinity'::timestamptz
          ORDER BY p.created_at
          LIMIT p_batch
          FOR UPDATE SKIP LOCKED) w
    WHERE e.id OPERATOR(pg_catalog.=) w.id;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT, v_ctx = PG_EXCEPTION_CONTEXT;
    RETURN ops.job_fail(v_id, v_job, v_started, v_state, v_msg, v_ctx);
  END;
  -- How long rows have waited: since updated_at, which is when a row started waiting (its INSERT, or the UPDATE that
  -- changed its vector; entering the graph does not move it, sql/1009). A re-embedded chunk's created_at may be days
  -- old. One pass over at most 100,001 waiting rows.
  SELECT count(*), min(w.updated_at) INTO v_pending, v_oldest FROM (SELECT p.updated_at FROM app.rag_embeddings p
    WHERE NOT p.in_vector_index AND p.created_at OPERATOR(pg_catalog.>) '-infinity'::timestamptz LIMIT 100001) w;
  v_age := pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) v_oldest;
  v_wait := round(extract(epoch FROM v_age)::numeric, 1)::double precision;
  IF v_age OPERATOR(pg_catalog.>) p_backlog_alarm THEN
    INSERT INTO ops.logs (level, event_type, message, metadata)
    VALUES ('warn', 'vector_index_backlog',
            'vector index backlog: ' || v_pending || ' embedding(s) wait for the HNSW graph, the oldest for ' || v_wait || ' s',
            pg_catalog.jsonb_build_object('job_id', v_id, 'pending', v_pending, 'oldest_pending_seconds', v_wait,
                                          'backlog_alarm', p_backlog_alarm));
    RAISE WARNING 'pgkit vector index backlog: % embedding(s) wait for the HNSW graph, the oldest for % s (alarm above %)',
      v_pending, v_wait, p_backlog_alarm;
  END IF;
  RETURN ops.job_end(v_id, v_job, v_rows, v_started,
    pg_catalog.jsonb_build_object('more', v_rows OPERATOR(pg_catalog.>=) p_batch, 'pending', v_pending,
                                  'oldest_pending_seconds', v_wait));
END
$$;
COMMENT ON FUNCTION ops.job_index_pending_embeddings(integer, interval) IS
  'One logged batch of embeddings put into the HNSW graph (in_vector_index, sql/1009); warns when a row has waited (since its updated_at) longer than p_backlog_alarm.';
REVOKE ALL ON FUNCTION ops.job_index_pending_embeddings(integer, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.job_index_pending_embeddings(integer, interval) TO pgkit_maintenance;
