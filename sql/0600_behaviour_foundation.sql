-- 0600: what the behaviour bundle (0600-0799) shares.
--   ops.log_event_types rows for job runs and the behaviour events (seed 004 #29: a new type is an INSERT);
--   ops.job_begin / ops.job_end / ops.job_fail: every scheduled job logs start, end, rows affected, time
--     window and errors into ops.logs with one job_id (seed 004 #32, #45);
--   ops.job_schedule_status: whether pg_cron jobs are registered in this database and why not (a report
--     reads it; the migration also raises a NOTICE, never a silent skip);
--   app_private.tg__set_updated_at() extended: updated_at never moves backwards, even when the server clock
--     steps back (the CHECK updated_at >= created_at would otherwise reject an ordinary UPDATE after a
--     clock correction). 0780 attaches it to every table with updated_at that lacks it.
-- Serves: seed 004 #32, #45 (job logging), #38/#39 (updated_at everywhere), seed 004 #29.
-- pgkit:replaces sha256:5cf3378caef511b47a670f33e3dc6687264ed2814802ab1b9cddd8b352f89561
-- What this file wrote of functions and views (their definitions, grants, comments and triggers) now lives in
--   sql/definitions/: app_private.tg__set_updated_at.sql, ops.job_begin.sql, ops.job_end.sql, ops.job_fail.sql.

INSERT INTO ops.log_event_types (code, description) VALUES
  ('job_started', 'A scheduled job started; metadata holds job_id, job and parameters'),
  ('job_completed', 'A scheduled job finished; metadata holds job_id, rows affected, time window, duration'),
  ('job_failed', 'A scheduled job failed and was rolled back; metadata holds job_id, sqlstate, error, context'),
  ('job_skipped', 'A scheduled job did not run because another run of it held the job lock'),
  ('partition_default_rows', 'Rows sit in a DEFAULT partition: outside the premade range'),
  ('cost_limit_reached', 'An organization reached its daily cost limit; its pending queue items were blocked'),
  ('cost_limit_released', 'Blocked queue items became eligible again (new UTC day or raised limit)'),
  ('queue_lease_expired', 'A queue item''s worker vanished; the item was re-queued or failed')
ON CONFLICT (code) DO NOTHING;

-- One row per database the bundle was applied to: are the jobs scheduled here, and if not, why.
CREATE TABLE IF NOT EXISTS ops.job_schedule_status (
  database_name  text PRIMARY KEY,
  scheduled      boolean NOT NULL,
  reason         text NOT NULL,
  jobs           jsonb NOT NULL DEFAULT '[]',
  checked_at     timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT job_schedule_status_reason_check CHECK (char_length(reason) BETWEEN 1 AND 2000),
  CONSTRAINT job_schedule_status_jobs_check CHECK (jsonb_typeof(jobs) = 'array')
);
COMMENT ON TABLE ops.job_schedule_status IS
  'Whether ops.schedule_jobs() registered the pg_cron jobs in this database, and why not when it did not.';
