-- app_private.cost_limit_reached: the current definition of this function.
-- First created by sql/0610_queue.sql.
--   PL/pgSQL, not SQL: a SQL function with a SET clause is never inlined, and PostgreSQL parses, analyses and
--   plans its body again in every statement that calls it (issue 16's profile of the request context).
-- Serves: seed 001 queue table / queue processing / exponential backoff / timezone-aware scheduling /
--         question 1 (many workers with SKIP LOCKED); seed 003 §5.2.
-- pgkit:after 0610_queue.sql

-- Is this organization's spend today at or above its limit? (Reads the roll-up, never raw usage.)
CREATE OR REPLACE FUNCTION app_private.cost_limit_reached(p_org uuid, p_day date DEFAULT (pg_catalog.timezone('UTC', pg_catalog.now()))::date)
RETURNS boolean
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN coalesce((
      SELECT d.total_cost_gbp >= o.daily_cost_limit
      FROM app.organizations o
      JOIN app.token_usage_daily d ON d.organization_id = o.id AND d.usage_date = p_day
      WHERE o.id = p_org), false);
END
$$;
REVOKE ALL ON FUNCTION app_private.cost_limit_reached(uuid, date) FROM PUBLIC;
