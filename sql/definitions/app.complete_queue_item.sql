-- app.complete_queue_item: the current definition of this function.
-- First created by sql/0610_queue.sql; its arguments changed in sql/0930_authenticated_context.sql: the lease
-- token returned by the claim, not a caller-chosen worker name, proves the caller holds the lease (issue 16 #1).
-- Serves: seed 001 queue table / queue processing / exponential backoff / timezone-aware scheduling /
--         question 1 (many workers with SKIP LOCKED); seed 003 §5.2.
-- pgkit:after 0610_queue.sql

CREATE OR REPLACE FUNCTION app.complete_queue_item(p_id uuid, p_lease_token uuid, p_episode_id uuid DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_org uuid := app_private.queue_caller_org('complete_queue_item');
BEGIN
  -- Only the current lease holder completes: a worker whose lease expired (its item was re-queued and
  -- maybe claimed again, with a new token) gets false and must drop its result.
  UPDATE app.episode_schedule_queue q
  SET status           = 'completed',
      completed_at     = GREATEST(pg_catalog.clock_timestamp(), q.picked_up_at),
      episode_id       = coalesce(p_episode_id, q.episode_id),
      locked_by        = NULL,
      lease_expires_at = NULL,
      lease_token      = NULL,
      next_attempt_at  = NULL
  WHERE q.id = p_id AND q.status = 'processing' AND q.lease_token = p_lease_token
    AND (v_org IS NULL OR q.organization_id = v_org);
  RETURN FOUND;
END
$$;
COMMENT ON FUNCTION app.complete_queue_item(uuid, uuid, uuid) IS
  'Completes a claimed item for the holder of its lease token; false when the token does not hold the lease (expired, re-claimed, or another worker''s). Worker login with a worker token only.';
REVOKE ALL ON FUNCTION app.complete_queue_item(uuid, uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.complete_queue_item(uuid, uuid, uuid) TO pgkit_worker;
