-- app.claim_queue_items: the current definition of this function.
-- First created by sql/0610_queue.sql.
-- Serves: seed 001 queue table / queue processing / exponential backoff / timezone-aware scheduling /
--         question 1 (many workers with SKIP LOCKED); seed 003 §5.2.
-- pgkit:after 0610_queue.sql
-- Issue 16 #1: for the worker login only, with a worker token (app_private.queue_caller_org), and each claim
-- returns a random lease token (lease_token) that completing or failing the item needs.

CREATE OR REPLACE FUNCTION app.claim_queue_items(
  p_worker text,
  p_limit integer DEFAULT 1,
  p_lease interval DEFAULT interval '5 minutes')
RETURNS SETOF app.episode_schedule_queue
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_now timestamptz := pg_catalog.clock_timestamp();
  v_org uuid := app_private.queue_caller_org('claim_queue_items');
BEGIN
  IF p_worker IS NULL OR pg_catalog.btrim(p_worker) = '' OR pg_catalog.char_length(p_worker) > 200 THEN
    RAISE EXCEPTION 'claim_queue_items: worker id must be 1..200 characters' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_limit IS NULL OR p_limit < 1 OR p_limit > 1000 THEN
    RAISE EXCEPTION 'claim_queue_items: limit must be 1..1000' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_lease IS NULL OR p_lease <= interval '0' OR p_lease > interval '1 day' THEN
    RAISE EXCEPTION 'claim_queue_items: lease must be > 0 and <= 1 day' USING ERRCODE = 'invalid_parameter_value';
  END IF;

  RETURN QUERY
  WITH due AS (
    SELECT q.id
    FROM app.episode_schedule_queue q
    WHERE q.status = 'pending'
      AND q.scheduled_for <= v_now
      AND (q.next_attempt_at IS NULL OR q.next_attempt_at <= v_now)
      AND q.attempt_count < q.max_attempts
      AND (v_org IS NULL OR q.organization_id = v_org)
      AND NOT app_private.cost_limit_reached(q.organization_id)
    ORDER BY q.scheduled_for, q.id
    LIMIT p_limit
    FOR UPDATE SKIP LOCKED
  )
  UPDATE app.episode_schedule_queue q
  SET status           = 'processing',
      picked_up_at     = v_now,
      last_attempt_at  = v_now,
      attempt_count    = q.attempt_count + 1,
      locked_by        = p_worker,
      lease_expires_at = v_now + p_lease,
      lease_token      = extensions.gen_random_uuid(),
      next_attempt_at  = NULL
  FROM due
  WHERE q.id = due.id
  RETURNING q.*;
END
$$;
COMMENT ON FUNCTION app.claim_queue_items(text, integer, interval) IS
  'Claims up to p_limit due items for p_worker (a label for logs) with FOR UPDATE SKIP LOCKED and a lease whose random lease_token the returned rows carry; skips organizations over their daily cost limit. Worker login with a worker token only.';
REVOKE ALL ON FUNCTION app.claim_queue_items(text, integer, interval) FROM PUBLIC, pgkit_app;
GRANT EXECUTE ON FUNCTION app.claim_queue_items(text, integer, interval) TO pgkit_worker;
