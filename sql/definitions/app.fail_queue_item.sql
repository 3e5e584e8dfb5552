-- app.fail_queue_item: the current definition of this function.
-- First created by sql/0610_queue.sql.
-- Serves: seed 001 queue table / queue processing / exponential backoff / timezone-aware scheduling /
--         question 1 (many workers with SKIP LOCKED); seed 003 §5.2.
-- pgkit:after 0610_queue.sql

-- Returns the item's new status ('pending' = will retry, 'failed' = gave up), or NULL when p_worker does
-- not hold the item's lease (nothing changed).
CREATE OR REPLACE FUNCTION app.fail_queue_item(p_id uuid, p_worker text, p_error text)
RETURNS app.queue_status
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  PERFORM 1 FROM app.episode_schedule_queue q
  WHERE q.id = p_id AND q.status = 'processing' AND q.locked_by = p_worker
  FOR UPDATE;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  RETURN app_private.queue_retry_or_fail(p_id, p_error);
END
$$;
REVOKE ALL ON FUNCTION app.fail_queue_item(uuid, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.fail_queue_item(uuid, text, text) TO pgkit_app;
