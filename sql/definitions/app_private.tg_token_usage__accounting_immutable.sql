-- app_private.tg_token_usage__accounting_immutable: the current definition of this function and the triggers that call it.
-- First created by sql/0620_token_accounting.sql.
-- Serves: seed 001 TokenUsageDaily trigger + cost control circuit breaker + question 3 (skip today's
--         episodes, eligible again tomorrow); seed 000 P2 (token accounting), "test token accounting accuracy".
-- pgkit:after 0620_token_accounting.sql

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
