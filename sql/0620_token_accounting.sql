-- 0620: token accounting — app.token_usage rolls up into app.token_usage_daily, and the daily cost circuit
-- breaker (tables: 0160, 0161).
--   token_usage_roll_up: one AFTER INSERT ... FOR EACH STATEMENT trigger with a transition table. It groups
--     the statement's rows by (organization, UTC day, operation) and applies them with ONE
--     INSERT ... ON CONFLICT DO UPDATE SET total = total + EXCLUDED.total per (organization, day), in key
--     order. The increment is computed under the row lock ON CONFLICT takes, so concurrent writers never
--     lose an update (no read-modify-write in the client, no SERIALIZABLE needed), and the fixed key order
--     means two multi-organization statements cannot deadlock. A batch insert pays the trigger once.
--   operation_breakdown: {operation: {tokens, cost, calls}}, merged by app_private.merge_token_breakdown.
--   episode_count counts episode_generation calls of the day; hourly_peak_tokens/peak_hour stay NULL
--     (seed 001 "added later if needed": needs per-hour totals, not kept).
--   Circuit breaker (seed 001): when a statement takes today's total_cost_gbp from below the organization's
--     daily_cost_limit to at or above it, the organization's pending queue items become 'blocked' with the
--     reason in last_error, and a cost_limit_reached line is logged. Items queued while the limit is
--     reached are blocked on insert, and claim_queue_items skips the organization anyway. The next UTC day
--     (or after the limit was raised) app_private.release_cost_blocks() — run by the scheduled job
--     ops.job_release_cost_blocks — returns them to 'pending'.
-- SECURITY DEFINER trigger functions: the app role inserts token_usage but needs no write grant on the
-- roll-up or the queue.
-- Serves: seed 001 TokenUsageDaily trigger + cost control circuit breaker + question 3 (skip today's
--         episodes, eligible again tomorrow); seed 000 P2 (token accounting), "test token accounting accuracy".

CREATE OR REPLACE FUNCTION app_private.merge_token_breakdown(p_old jsonb, p_delta jsonb)
RETURNS jsonb
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $$
  SELECT coalesce(pg_catalog.jsonb_object_agg(k.key, pg_catalog.jsonb_build_object(
           'tokens', coalesce((p_old -> k.key ->> 'tokens')::bigint, 0) + coalesce((p_delta -> k.key ->> 'tokens')::bigint, 0),
           'cost',   coalesce((p_old -> k.key ->> 'cost')::numeric, 0) + coalesce((p_delta -> k.key ->> 'cost')::numeric, 0),
           'calls',  coalesce((p_old -> k.key ->> 'calls')::bigint, 0) + coalesce((p_delta -> k.key ->> 'calls')::bigint, 0))),
         '{}'::jsonb)
  FROM (SELECT pg_catalog.jsonb_object_keys(coalesce(p_old, '{}'::jsonb)) AS key
        UNION
        SELECT pg_catalog.jsonb_object_keys(coalesce(p_delta, '{}'::jsonb))) k
$$;

-- Blocks an organization's pending items (the breaker tripped). Returns how many.
CREATE OR REPLACE FUNCTION app_private.trip_cost_breaker(p_org uuid, p_day date, p_total numeric, p_limit numeric)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_n integer;
BEGIN
  UPDATE app.episode_schedule_queue q
  SET status = 'blocked',
      last_error = pg_catalog.format('daily cost limit reached: %s GBP spent on %s, limit %s GBP', p_total, p_day, p_limit)
  WHERE q.organization_id = p_org AND q.status = 'pending';
  GET DIAGNOSTICS v_n = ROW_COUNT;
  INSERT INTO ops.logs (level, event_type, message, organization_id, metadata)
  VALUES ('warn', 'cost_limit_reached',
          pg_catalog.format('organization %s reached its daily cost limit (%s >= %s GBP): %s queue item(s) blocked', p_org, p_total, p_limit, v_n),
          p_org,
          pg_catalog.jsonb_build_object('usage_date', p_day, 'total_cost_gbp', p_total, 'daily_cost_limit', p_limit, 'blocked_items', v_n));
  RETURN v_n;
END
$$;

CREATE OR REPLACE FUNCTION app_private.tg_token_usage__roll_up()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  r record;
  v_today date := (pg_catalog.timezone('UTC', pg_catalog.now()))::date;
BEGIN
  FOR r IN
    WITH per_op AS (
      SELECT n.organization_id,
             (pg_catalog.timezone('UTC', n.created_at))::date AS usage_date,
             n.operation::text AS op,
             sum(n.input_tokens)::bigint AS input_tokens,
             sum(n.output_tokens)::bigint AS output_tokens,
             sum(n.cost_gbp) AS cost,
             count(*)::integer AS calls
      FROM new_rows n
      GROUP BY 1, 2, 3
    ), per_day AS (
      SELECT p.organization_id, p.usage_date,
             sum(p.input_tokens)::bigint AS input_tokens,
             sum(p.output_tokens)::bigint AS output_tokens,
             sum(p.cost) AS cost,
             sum(p.calls)::integer AS calls,
             coalesce(sum(p.calls) FILTER (WHERE p.op = 'episode_generation'), 0)::integer AS episodes,
             pg_catalog.jsonb_object_agg(p.op, pg_catalog.jsonb_build_object(
               'tokens', p.input_tokens + p.output_tokens, 'cost', p.cost, 'calls', p.calls)) AS breakdown
      FROM per_op p
      GROUP BY 1, 2
    ), up AS (
      INSERT INTO app.token_usage_daily AS d
        (organization_id, usage_date, total_input_tokens, total_output_tokens, total_tokens, total_cost_gbp,
         episode_count, call_count, operation_breakdown)
      SELECT pd.organization_id, pd.usage_date, pd.input_tokens, pd.output_tokens, pd.input_tokens + pd.output_tokens,
             pd.cost, pd.episodes, pd.calls, pd.breakdown
      FROM per_day pd
      ORDER BY pd.organization_id, pd.usage_date
      ON CONFLICT (organization_id, usage_date) DO UPDATE SET
        total_input_tokens  = d.total_input_tokens + EXCLUDED.total_input_tokens,
        total_output_tokens = d.total_output_tokens + EXCLUDED.total_output_tokens,
        total_tokens        = d.total_tokens + EXCLUDED.total_tokens,
        total_cost_gbp      = d.total_cost_gbp + EXCLUDED.total_cost_gbp,
        episode_count       = d.episode_count + EXCLUDED.episode_count,
        call_count          = d.call_count + EXCLUDED.call_count,
        operation_breakdown = app_private.merge_token_breakdown(d.operation_breakdown, EXCLUDED.operation_breakdown)
      RETURNING d.organization_id, d.usage_date, d.total_cost_gbp
    )
    SELECT up.organization_id, up.usage_date, up.total_cost_gbp, o.daily_cost_limit
    FROM up
    JOIN per_day pd ON pd.organization_id = up.organization_id AND pd.usage_date = up.usage_date
    JOIN app.organizations o ON o.id = up.organization_id
    WHERE up.usage_date = v_today
      AND up.total_cost_gbp >= o.daily_cost_limit
      AND up.total_cost_gbp - pd.cost < o.daily_cost_limit
  LOOP
    PERFORM app_private.trip_cost_breaker(r.organization_id, r.usage_date, r.total_cost_gbp, r.daily_cost_limit);
  END LOOP;
  RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER token_usage_roll_up
  AFTER INSERT ON app.token_usage
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION app_private.tg_token_usage__roll_up();

-- Usage rows are facts: the columns the roll-up sums are immutable (a correction is a new row). Other
-- columns may change: the foreign keys' ON DELETE SET NULL (project, user, episode, session erased) must
-- keep working. DELETE is left to the organization cascade (the roll-up rows go with it) and to partition
-- retention (a DROP of whole months, not a DELETE).
CREATE OR REPLACE FUNCTION app_private.tg_token_usage__accounting_immutable()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
AS $$
BEGIN
  IF (NEW.organization_id, NEW.created_at, NEW.operation, NEW.input_tokens, NEW.output_tokens, NEW.cost_gbp)
     IS DISTINCT FROM (OLD.organization_id, OLD.created_at, OLD.operation, OLD.input_tokens, OLD.output_tokens, OLD.cost_gbp) THEN
    RAISE EXCEPTION 'app.token_usage accounting columns are immutable (the daily roll-up depends on them); insert a correcting row instead'
      USING ERRCODE = 'check_violation', CONSTRAINT = 'token_usage_accounting_immutable_check',
            SCHEMA = 'app', TABLE = 'token_usage';
  END IF;
  RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER token_usage_accounting_immutable
  BEFORE UPDATE ON app.token_usage
  FOR EACH ROW EXECUTE FUNCTION app_private.tg_token_usage__accounting_immutable();

-- A queue item created while its organization is over today's limit starts out blocked.
CREATE OR REPLACE FUNCTION app_private.tg_episode_schedule_queue__cost_breaker()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF NEW.status = 'pending' AND app_private.cost_limit_reached(NEW.organization_id) THEN
    NEW.status := 'blocked';
    NEW.last_error := 'daily cost limit reached when queued';
  END IF;
  RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER episode_schedule_queue_cost_breaker
  BEFORE INSERT ON app.episode_schedule_queue
  FOR EACH ROW EXECUTE FUNCTION app_private.tg_episode_schedule_queue__cost_breaker();

-- Blocked items of organizations no longer at their limit on p_now's UTC day go back to pending
-- (idempotent: a missed or repeated run only releases what is eligible). Returns how many.
CREATE OR REPLACE FUNCTION app_private.release_cost_blocks(p_now timestamptz DEFAULT now())
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_day date := (pg_catalog.timezone('UTC', p_now))::date;
  r record;
  v_total integer := 0;
BEGIN
  FOR r IN
    WITH released AS (
      UPDATE app.episode_schedule_queue q
      SET status = 'pending',
          last_error = pg_catalog.left('released on ' || v_day || ' after: ' || q.last_error, 4000)
      WHERE q.status = 'blocked'
        AND NOT app_private.cost_limit_reached(q.organization_id, v_day)
      RETURNING q.organization_id
    )
    SELECT organization_id, count(*)::integer AS n FROM released GROUP BY organization_id
  LOOP
    INSERT INTO ops.logs (level, event_type, message, organization_id, metadata)
    VALUES ('info', 'cost_limit_released',
            pg_catalog.format('%s blocked queue item(s) of organization %s are eligible again on %s', r.n, r.organization_id, v_day),
            r.organization_id, pg_catalog.jsonb_build_object('usage_date', v_day, 'released_items', r.n));
    v_total := v_total + r.n;
  END LOOP;
  RETURN v_total;
END
$$;

REVOKE ALL ON FUNCTION app_private.trip_cost_breaker(uuid, date, numeric, numeric) FROM PUBLIC;
REVOKE ALL ON FUNCTION app_private.release_cost_blocks(timestamptz) FROM PUBLIC;
