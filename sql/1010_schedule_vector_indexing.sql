-- 1010: schedules ops.run_index_pending_embeddings (sql/1009, its definition in sql/definitions/), every minute: new
--   embeddings enter the HNSW graph there instead of in the request that wrote them. Same registration as every job
--   (sql/0790: in the cron database, or a NOTICE that says why not), its row of ops.job_locks (sql/0890), and
--   the log event type of its backlog warning.
-- Serves: seed 002 performance targets (bulk insert of 100 < 500 ms), seed 004 #30, #32 (jobs scheduled).
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

INSERT INTO ops.log_event_types (code, description) VALUES
  ('vector_index_backlog', 'An embedding has waited longer than the alarm age for the HNSW graph (ops.job_index_pending_embeddings)')
ON CONFLICT (code) DO NOTHING;

INSERT INTO ops.job_locks (job) VALUES ('index_pending_embeddings') ON CONFLICT DO NOTHING;

SELECT ops.schedule_jobs();
