-- app.reap_expired_queue_leases: the current definition of this function.
-- First created by sql/0610_queue.sql.
-- Serves: seed 001 queue table / queue processing / exponential backoff / timezone-aware scheduling /
--         question 1 (many workers with SKIP LOCKED); seed 003 §5.2.
-- pgkit:after 0610_queue.sql

-- Items picked up whose lease passed: the worker vanished. Each is retried (backoff) or failed, exactly as
-- if the worker had reported the error. SKIP LOCKED: an item a worker is completing right now is left to
-- it. Returns the number of items handled.
CREATE OR REPLACE FUNCTION app.reap_expired_queue_leases(p_limit integer DEFAULT 1000)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  r record;
  v_n integer := 0;
  v_status app.queue_status;
BEGIN
  FOR r IN
    SELECT q.id, q.organization_id, q.locked_by, q.lease_expires_at, q.attempt_count
    FROM app.episode_schedule_queue q
    WHERE q.status = 'processing' AND q.lease_expires_at < pg_catalog.clock_timestamp()
    ORDER BY q.lease_expires_at
    LIMIT p_limit
    FOR UPDATE SKIP LOCKED
  LOOP
    v_status := app_private.queue_retry_or_fail(r.id,
      pg_catalog.format('lease expired at %s: worker %s vanished before finishing (attempt %s)',
                        r.lease_expires_at, r.locked_by, r.attempt_count));
    INSERT INTO ops.logs (level, event_type, message, organization_id, metadata)
    VALUES ('warn', 'queue_lease_expired',
            pg_catalog.format('queue item %s: lease of %s expired; now %s', r.id, r.locked_by, v_status),
            r.organization_id,
            pg_catalog.jsonb_build_object('queue_item_id', r.id, 'worker', r.locked_by,
                                          'lease_expires_at', r.lease_expires_at, 'new_status', v_status));
    v_n := v_n + 1;
  END LOOP;
  RETURN v_n;
END
$$;
REVOKE ALL ON FUNCTION app.reap_expired_queue_leases(integer) FROM PUBLIC, pgkit_app;
GRANT EXECUTE ON FUNCTION app.reap_expired_queue_leases(integer) TO pgkit_worker, pgkit_maintenance;
