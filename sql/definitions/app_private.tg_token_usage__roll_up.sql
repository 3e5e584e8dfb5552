-- app_private.tg_token_usage__roll_up: the current definition of this function and the triggers that call it.
-- First created by sql/0620_token_accounting.sql.
-- Serves: seed 001 TokenUsageDaily trigger + cost control circuit breaker + question 3 (skip today's
--         episodes, eligible again tomorrow); seed 000 P2 (token accounting), "test token accounting accuracy".
-- pgkit:after 0620_token_accounting.sql

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
