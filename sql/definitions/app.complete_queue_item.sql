-- app.complete_queue_item: the current definition of this function.
-- First created by sql/0610_queue.sql.
-- Serves: seed 001 queue table / queue processing / exponential backoff / timezone-aware scheduling /
--         question 1 (many workers with SKIP LOCKED); seed 003 §5.2.
-- pgkit:after 0610_queue.sql

CREATE OR REPLACE FUNCTION app.complete_queue_item(p_id uuid, p_worker text, p_episode_id uuid DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  -- Only the current lease holder completes: a worker whose lease expired (its item was re-queued and
  -- maybe claimed again) gets false and must drop its result.
  UPDATE app.episode_schedule_queue q
  SET status           = 'completed',
      completed_at     = GREATEST(pg_catalog.clock_timestamp(), q.picked_up_at),
      episode_id       = coalesce(p_episode_id, q.episode_id),
      locked_by        = NULL,
      lease_expires_at = NULL,
      next_attempt_at  = NULL
  WHERE q.id = p_id AND q.status = 'processing' AND q.locked_by = p_worker;
  RETURN FOUND;
END
$$;
REVOKE ALL ON FUNCTION app.complete_queue_item(uuid, text, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.complete_queue_item(uuid, text, uuid) TO pgkit_app;
