-- app.fail_queue_item: the current definition of this function.
-- First created by sql/0610_queue.sql; its arguments changed in sql/0930_authenticated_context.sql: the lease
-- token returned by the claim, not a caller-chosen worker name, proves the caller holds the lease (issue 16 #1).
-- Serves: seed 001 queue table / queue processing / exponential backoff / timezone-aware scheduling /
--         question 1 (many workers with SKIP LOCKED); seed 003 §5.2.
-- pgkit:after 0610_queue.sql

-- Returns the item's new status ('pending' = will retry, 'failed' = gave up), or NULL when the token does
-- not hold the item's lease (nothing changed).
CREATE OR REPLACE FUNCTION app.fail_queue_item(p_id uuid, p_lease_token uuid, p_error text)
RETURNS app.queue_status
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_org uuid := app_private.queue_caller_org('fail_queue_item');
BEGIN
  PERFORM 1 FROM app.episode_schedule_queue q
  WHERE q.id = p_id AND q.status = 'processing' AND q.lease_token = p_lease_token
    AND (v_org IS NULL OR q.organization_id = v_org)
  FOR UPDATE;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  RETURN app_private.queue_retry_or_fail(p_id, p_error);
END
$$;
COMMENT ON FUNCTION app.fail_queue_item(uuid, uuid, text) IS
  'Records a failed attempt of a claimed item for the holder of its lease token: retried with backoff, or failed after max_attempts. NULL when the token does not hold the lease. Worker login with a worker token only.';
REVOKE ALL ON FUNCTION app.fail_queue_item(uuid, uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.fail_queue_item(uuid, uuid, text) TO pgkit_worker;
