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

-- Starts a job run: takes a transaction-level advisory lock so two runs of one job never overlap (a
-- second run returns NULL and logs job_skipped), and logs job_started. Returns the run's job_id.
CREATE OR REPLACE FUNCTION ops.job_begin(p_job text, p_params jsonb DEFAULT '{}')
RETURNS uuid
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_id uuid := extensions.gen_random_uuid();
BEGIN
  IF NOT pg_catalog.pg_try_advisory_xact_lock(pg_catalog.hashtext('pgkit.job.' || p_job)) THEN
    INSERT INTO ops.logs (level, event_type, message, metadata)
    VALUES ('warn', 'job_skipped', p_job || ' skipped: another run holds the job lock',
            pg_catalog.jsonb_build_object('job', p_job, 'params', p_params));
    RETURN NULL;
  END IF;
  INSERT INTO ops.logs (level, event_type, message, metadata)
  VALUES ('info', 'job_started', p_job || ' started',
          pg_catalog.jsonb_build_object('job_id', v_id, 'job', p_job, 'params', p_params,
                                        'started_at', pg_catalog.clock_timestamp()));
  RETURN v_id;
END
$$;

-- Ends a job run: logs job_completed with rows affected and whatever the job adds (time window, ids).
CREATE OR REPLACE FUNCTION ops.job_end(p_job_id uuid, p_job text, p_rows bigint, p_started timestamptz, p_details jsonb DEFAULT '{}')
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_result jsonb;
BEGIN
  v_result := pg_catalog.jsonb_build_object(
      'job_id', p_job_id, 'job', p_job, 'status', 'completed', 'rows_affected', p_rows,
      'started_at', p_started, 'finished_at', pg_catalog.clock_timestamp(),
      'duration_ms', round(extract(epoch FROM pg_catalog.clock_timestamp() - p_started) * 1000, 1))
    || p_details;
  INSERT INTO ops.logs (level, event_type, message, metadata)
  VALUES ('info', 'job_completed', p_job || ' completed: ' || p_rows || ' row(s) affected', v_result);
  RETURN v_result;
END
$$;

-- Records a failed run. Called from the job's EXCEPTION block, i.e. after the job's work was rolled back
-- to its savepoint, so the error line survives while the partial work does not (seed 004 #45). Also a
-- WARNING in the server log, and the returned status 'failed' is what pg_cron's run details show.
CREATE OR REPLACE FUNCTION ops.job_fail(p_job_id uuid, p_job text, p_started timestamptz, p_sqlstate text, p_error text, p_context text)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_result jsonb;
BEGIN
  v_result := pg_catalog.jsonb_build_object(
      'job_id', p_job_id, 'job', p_job, 'status', 'failed', 'sqlstate', p_sqlstate,
      'error', pg_catalog.left(p_error, 2000), 'context', pg_catalog.left(p_context, 2000),
      'started_at', p_started, 'finished_at', pg_catalog.clock_timestamp());
  INSERT INTO ops.logs (level, event_type, message, metadata)
  VALUES ('error', 'job_failed', p_job || ' failed: ' || pg_catalog.left(p_error, 500), v_result);
  RAISE WARNING 'pgkit job % failed: % (%)', p_job, p_error, p_sqlstate;
  RETURN v_result;
END
$$;

REVOKE ALL ON FUNCTION ops.job_begin(text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION ops.job_end(uuid, text, bigint, timestamptz, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION ops.job_fail(uuid, text, timestamptz, text, text, text) FROM PUBLIC;

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

-- updated_at: only a real change moves it, and it never goes backwards nor before created_at.
CREATE OR REPLACE FUNCTION app_private.tg__set_updated_at()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
AS $$
BEGIN
  IF NEW IS DISTINCT FROM OLD THEN
    -- Never before the previous value (which the CHECK updated_at >= created_at already bounds), so a
    -- clock that stepped back cannot fail an ordinary UPDATE. Tables without created_at use it too.
    NEW.updated_at := GREATEST(pg_catalog.clock_timestamp(), OLD.updated_at);
  END IF;
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION app_private.tg__set_updated_at() IS
  'BEFORE UPDATE trigger: sets NEW.updated_at to clock_timestamp() when the row changed; monotonic (never before OLD.updated_at).';
