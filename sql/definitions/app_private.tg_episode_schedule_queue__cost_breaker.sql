-- app_private.tg_episode_schedule_queue__cost_breaker: the current definition of this function and the triggers that call it.
-- First created by sql/0620_token_accounting.sql.
-- Serves: seed 001 TokenUsageDaily trigger + cost control circuit breaker + question 3 (skip today's
--         episodes, eligible again tomorrow); seed 000 P2 (token accounting), "test token accounting accuracy".
-- pgkit:after 0620_token_accounting.sql

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
