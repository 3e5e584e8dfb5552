-- app_private.queue_retry_or_fail: the current definition of this function.
-- First created by sql/0610_queue.sql.
-- Serves: seed 001 queue table / queue processing / exponential backoff / timezone-aware scheduling /
--         question 1 (many workers with SKIP LOCKED); seed 003 §5.2.
-- pgkit:after 0610_queue.sql

-- Shared by fail and the lease reaper: back to pending after the backoff, or failed when out of attempts.
-- next_attempt_at = the failing transaction's now() + queue_backoff(attempt_count) (never before the
-- attempt itself, should the clock have stepped back).
CREATE OR REPLACE FUNCTION app_private.queue_retry_or_fail(p_id uuid, p_error text)
RETURNS app.queue_status
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_status app.queue_status;
BEGIN
  UPDATE app.episode_schedule_queue q
  SET status           = CASE WHEN q.attempt_count >= q.max_attempts THEN 'failed'::app.queue_status
                              ELSE 'pending'::app.queue_status END,
      last_error       = pg_catalog.left(coalesce(nullif(p_error, ''), 'unknown error'), 4000),
      next_attempt_at  = CASE WHEN q.attempt_count >= q.max_attempts THEN NULL
                              ELSE GREATEST(pg_catalog.now(), q.last_attempt_at) + app.queue_backoff(q.attempt_count) END,
      locked_by        = NULL,
      lease_expires_at = NULL,
      lease_token      = NULL
  WHERE q.id = p_id
  RETURNING q.status INTO v_status;
  RETURN v_status;
END
$$;
REVOKE ALL ON FUNCTION app_private.queue_retry_or_fail(uuid, text) FROM PUBLIC;
