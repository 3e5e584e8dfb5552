-- ops.job_begin: the current definition of this function.
-- First created by sql/0600_behaviour_foundation.sql.
-- Serves: seed 004 #32, #45 (job logging), #38/#39 (updated_at everywhere), seed 004 #29.
-- pgkit:after 0890_job_locks_app_cannot_hold.sql

-- Starts a job run: locks the job's row of ops.job_locks for the transaction (FOR UPDATE SKIP LOCKED), so two
-- runs of one job never overlap (a second run returns NULL and logs job_skipped), and logs job_started. Returns
-- the run's job_id. A row lock, not an advisory lock: any session may take an advisory lock, and an app session
-- holding the job's key made every run skip (issue 16 #8); the app has no privilege on ops.job_locks.
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
  INSERT INTO ops.job_locks (job) VALUES (p_job) ON CONFLICT DO NOTHING;
  PERFORM 1 FROM ops.job_locks l WHERE l.job OPERATOR(pg_catalog.=) p_job FOR UPDATE SKIP LOCKED;
  IF NOT FOUND THEN
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
REVOKE ALL ON FUNCTION ops.job_begin(text, jsonb) FROM PUBLIC;
