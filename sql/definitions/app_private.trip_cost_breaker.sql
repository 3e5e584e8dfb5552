-- app_private.trip_cost_breaker: the current definition of this function.
-- First created by sql/0620_token_accounting.sql.
-- Serves: seed 001 TokenUsageDaily trigger + cost control circuit breaker + question 3 (skip today's
--         episodes, eligible again tomorrow); seed 000 P2 (token accounting), "test token accounting accuracy".
-- pgkit:after 0620_token_accounting.sql

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
REVOKE ALL ON FUNCTION app_private.trip_cost_breaker(uuid, date, numeric, numeric) FROM PUBLIC;
