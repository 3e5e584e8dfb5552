-- 0610: the episode generation queue's behaviour on app.episode_schedule_queue (table: 0150).
--   app.queue_backoff(n)           delay after the n-th failed attempt: 1 s * 2^(n-1), capped at 5 min
--                                  (1 s, 2 s, 4 s, ... 256 s, 300 s, 300 s ...) — seed 001's formula
--                                  min(1000 * 2^attemptCount, 300000) ms with attemptCount counted from 0.
--   app.claim_queue_items(...)     hands out due items with FOR UPDATE SKIP LOCKED: pending, scheduled_for
--                                  and next_attempt_at passed, attempts left, organization not over its
--                                  daily cost limit; records picked_up_at, last_attempt_at, attempt_count
--                                  and a lease (locked_by, lease_expires_at).
--   app.complete_queue_item(...)   completed + completed_at (+ episode_id); only the lease holder may.
--   app.fail_queue_item(...)       keeps the error; retries after the backoff, or 'failed' at max_attempts.
--   app.reap_expired_queue_leases()  re-queues items whose worker vanished (lease passed), with the same
--                                  backoff and attempt limit as a reported failure.
--   app.next_run_at(...)           next slot of a cadence in a timezone, returned in UTC (DST-correct).
--   app.schedule_project(...)      queues a project's next run from its cadence and the user's timezone,
--                                  stores UTC, keeps metadata {user_timezone, user_local_time} and refreshes
--                                  projects.next_scheduled_at (display cache).
-- SECURITY DEFINER, on purpose: the queue is drained by a worker that serves every organization, so it
-- cannot run under one organization's RLS context. The functions are the whole interface (no table grants
-- needed by the worker); each returns the item, and the worker then sets the item's organization as
-- request context for the generation work itself. search_path pinned, everything schema-qualified.
-- Serves: seed 001 queue table / queue processing / exponential backoff / timezone-aware scheduling /
--         question 1 (many workers with SKIP LOCKED); seed 003 §5.2.

CREATE OR REPLACE FUNCTION app.queue_backoff(p_attempt integer)
RETURNS interval
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $$
  SELECT pg_catalog.make_interval(secs => LEAST(pg_catalog.power(2, GREATEST(p_attempt, 1) - 1), 300)::double precision)
$$;
COMMENT ON FUNCTION app.queue_backoff(integer) IS
  'Retry delay after the n-th failed attempt: 2^(n-1) seconds, capped at 300 s (seed 001).';

-- Is this organization's spend today at or above its limit? (Reads the roll-up, never raw usage.)
CREATE OR REPLACE FUNCTION app_private.cost_limit_reached(p_org uuid, p_day date DEFAULT (pg_catalog.timezone('UTC', pg_catalog.now()))::date)
RETURNS boolean
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT coalesce((
    SELECT d.total_cost_gbp >= o.daily_cost_limit
    FROM app.organizations o
    JOIN app.token_usage_daily d ON d.organization_id = o.id AND d.usage_date = p_day
    WHERE o.id = p_org), false)
$$;

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
      next_attempt_at  = NULL
  FROM due
  WHERE q.id = due.id
  RETURNING q.*;
END
$$;
COMMENT ON FUNCTION app.claim_queue_items(text, integer, interval) IS
  'Claims up to p_limit due items for p_worker with FOR UPDATE SKIP LOCKED and a lease; skips organizations over their daily cost limit.';

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
      lease_expires_at = NULL
  WHERE q.id = p_id
  RETURNING q.status INTO v_status;
  RETURN v_status;
END
$$;
REVOKE ALL ON FUNCTION app_private.queue_retry_or_fail(uuid, text) FROM PUBLIC;

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

-- Next slot of a cadence strictly after p_after, computed in p_timezone and returned as UTC.
--   cadence {"mode": weekly|daily|weekdays|custom, "days": [0..6, 0 = Sunday], "hour": 0..23 (default 9)}:
--   daily = every day, weekdays = Monday..Friday, weekly/custom = the listed days.
-- Local times that do not exist (spring-forward gap) or occur twice (fall-back) are resolved by
-- PostgreSQL's AT TIME ZONE rules: deterministic, and always a real UTC instant.
CREATE OR REPLACE FUNCTION app.next_run_at(p_cadence jsonb, p_timezone text, p_after timestamptz)
RETURNS timestamptz
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
  v_mode  text := coalesce(p_cadence->>'mode', 'weekly');
  v_hour  integer := coalesce((p_cadence->>'hour')::integer, 9);
  v_days  integer[];
  v_local timestamp := p_after AT TIME ZONE p_timezone;
  v_day   date;
  v_at    timestamptz;
BEGIN
  IF NOT app_private.is_valid_timezone(p_timezone) THEN
    RAISE EXCEPTION 'next_run_at: % is not a known timezone', p_timezone USING ERRCODE = 'invalid_parameter_value';
  END IF;
  v_days := CASE v_mode
    WHEN 'daily' THEN ARRAY[0, 1, 2, 3, 4, 5, 6]
    WHEN 'weekdays' THEN ARRAY[1, 2, 3, 4, 5]
    ELSE ARRAY(SELECT (jsonb_array_elements_text(p_cadence->'days'))::integer)
  END;
  IF coalesce(array_length(v_days, 1), 0) = 0 THEN
    RAISE EXCEPTION 'next_run_at: cadence has no days' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  FOR i IN 0 .. 8 LOOP
    v_day := v_local::date + i;
    IF extract(dow FROM v_day)::integer = ANY (v_days) THEN
      v_at := (v_day + pg_catalog.make_time(v_hour, 0, 0)) AT TIME ZONE p_timezone;
      IF v_at > p_after THEN
        RETURN v_at;
      END IF;
    END IF;
  END LOOP;
  RAISE EXCEPTION 'next_run_at: no slot found for %', p_cadence;  -- unreachable with 1..7 valid days
END
$$;

-- Queues the project's next run (idempotent: a live item for the same slot is not duplicated) and refreshes
-- projects.next_scheduled_at. The timezone is p_timezone, else the organization owner's (oldest owner
-- membership), else UTC. Returns the queue item id (existing or new), NULL for a paused or deleted project.
CREATE OR REPLACE FUNCTION app.schedule_project(p_project_id uuid, p_timezone text DEFAULT NULL, p_after timestamptz DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_project app.projects%ROWTYPE;
  v_tz      text;
  v_at      timestamptz;
  v_id      uuid;
BEGIN
  -- Called by the application (its login, not the owner or a superuser), the project must belong to the
  -- request's organization: another tenant's project answers exactly like a missing one (NULL), so neither
  -- its existence nor its state (paused, deleted) leaks, nothing is queued and its row is not even locked.
  SELECT * INTO v_project FROM app.projects p
  WHERE p.id = p_project_id
    AND (NOT (pg_catalog.pg_has_role(SESSION_USER, 'pgkit_app', 'USAGE')
              AND NOT pg_catalog.pg_has_role(SESSION_USER, 'pgkit_owner', 'USAGE'))
         OR p.organization_id = app.current_org_id())
  FOR UPDATE;
  IF NOT FOUND OR v_project.is_paused OR v_project.deleted_at IS NOT NULL THEN
    RETURN NULL;
  END IF;
  v_tz := coalesce(p_timezone, (
    SELECT u.timezone FROM app.memberships m JOIN app.users u ON u.id = m.user_id
    WHERE m.organization_id = v_project.organization_id AND m.role = 'owner'
      AND m.deleted_at IS NULL AND u.deleted_at IS NULL
    ORDER BY m.created_at, m.id LIMIT 1), 'UTC');
  v_at := app.next_run_at(v_project.cadence_config, v_tz, coalesce(p_after, pg_catalog.now()));

  INSERT INTO app.episode_schedule_queue AS q (organization_id, project_id, scheduled_for, metadata)
  VALUES (v_project.organization_id, v_project.id, v_at,
          pg_catalog.jsonb_build_object('user_timezone', v_tz,
                                        'user_local_time', pg_catalog.to_char(v_at AT TIME ZONE v_tz, 'YYYY-MM-DD"T"HH24:MI:SS'),
                                        'cadence', v_project.cadence_config))
  ON CONFLICT (project_id, scheduled_for) WHERE status IN ('pending', 'processing', 'blocked') DO NOTHING
  RETURNING q.id INTO v_id;
  IF v_id IS NULL THEN
    SELECT q.id INTO v_id FROM app.episode_schedule_queue q
    WHERE q.project_id = v_project.id AND q.scheduled_for = v_at AND q.status IN ('pending', 'processing', 'blocked');
  END IF;

  UPDATE app.projects p SET next_scheduled_at = v_at
  WHERE p.id = v_project.id AND p.next_scheduled_at IS DISTINCT FROM v_at;
  RETURN v_id;
END
$$;

REVOKE ALL ON FUNCTION app_private.cost_limit_reached(uuid, date) FROM PUBLIC;
REVOKE ALL ON FUNCTION app.claim_queue_items(text, integer, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION app.complete_queue_item(uuid, text, uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION app.fail_queue_item(uuid, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION app.reap_expired_queue_leases(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION app.schedule_project(uuid, text, timestamptz) FROM PUBLIC;

-- The worker (the app role through PgBouncer) calls these; the maintenance role runs the reaper and scheduler.
GRANT USAGE ON SCHEMA app TO pgkit_app, pgkit_maintenance;
GRANT EXECUTE ON FUNCTION app.claim_queue_items(text, integer, interval) TO pgkit_app;
GRANT EXECUTE ON FUNCTION app.complete_queue_item(uuid, text, uuid) TO pgkit_app;
GRANT EXECUTE ON FUNCTION app.fail_queue_item(uuid, text, text) TO pgkit_app;
GRANT EXECUTE ON FUNCTION app.reap_expired_queue_leases(integer) TO pgkit_app, pgkit_maintenance;
GRANT EXECUTE ON FUNCTION app.schedule_project(uuid, text, timestamptz) TO pgkit_app, pgkit_maintenance;
