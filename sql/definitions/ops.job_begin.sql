-- ops.job_begin: the current definition of this function.
-- First created by sql/0600_behaviour_foundation.sql.
-- Serves: seed 004 #32, #45 (job logging), #38/#39 (updated_at everywhere), seed 004 #29.
-- pgkit:after 0600_behaviour_foundation.sql

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
REVOKE ALL ON FUNCTION ops.job_begin(text, jsonb) FROM PUBLIC;
