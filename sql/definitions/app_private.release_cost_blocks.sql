-- app_private.release_cost_blocks: the current definition of this function.
-- First created by sql/0620_token_accounting.sql.
-- Serves: seed 001 TokenUsageDaily trigger + cost control circuit breaker + question 3 (skip today's
--         episodes, eligible again tomorrow); seed 000 P2 (token accounting), "test token accounting accuracy".
-- pgkit:after 0620_token_accounting.sql

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
REVOKE ALL ON FUNCTION app_private.release_cost_blocks(timestamptz) FROM PUBLIC;
