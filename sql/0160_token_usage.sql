-- 0160: app.token_usage — one row per AI call: tokens in/out, model, cost (seed 000 P2 "token accounting
-- first-class"). Append-only, high volume: range-partitioned by month on created_at (primary key includes
-- created_at), DEFAULT partition + this month + 2 ahead so inserts work before pg_partman takes over (issue 5).
--   operation enum app.token_operation; input/output tokens >= 0; total_tokens generated;
--   cost_gbp numeric(12,6) >= 0 — one currency, GBP, the same as organizations.daily_cost_limit and
--     token_usage_daily.total_cost_gbp (seed 000 says USD, seed 001 GBP: the kit picks one);
--   index (project_id, created_at) (seed 000 P2).
--   Roll-up into app.token_usage_daily and the circuit breaker are issue 5.
-- Serves: seed 000 P2 token accounting; seed 001 token aggregation source; seed 004 #30 (partitioning), #13, #40.

DO $$ BEGIN
  CREATE TYPE app.token_operation AS ENUM ('episode_generation', 'project_onboarding', 'chat', 'embedding', 'insight_extraction');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;

CREATE TABLE IF NOT EXISTS app.token_usage (
  id              uuid NOT NULL DEFAULT extensions.gen_random_uuid(),
  created_at      timestamptz NOT NULL DEFAULT now(),
  organization_id uuid NOT NULL,
  project_id      uuid,
  user_id         uuid,
  episode_id      uuid,
  chat_session_id uuid,
  operation       app.token_operation NOT NULL,
  model_used      text NOT NULL,
  input_tokens    integer NOT NULL,
  output_tokens   integer NOT NULL,
  total_tokens    integer GENERATED ALWAYS AS (input_tokens + output_tokens) STORED,
  cost_gbp        numeric(12,6) NOT NULL,
  CONSTRAINT token_usage_pkey PRIMARY KEY (id, created_at),
  CONSTRAINT token_usage_organization_id_fkey FOREIGN KEY (organization_id)
    REFERENCES app.organizations (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT token_usage_project_id_fkey FOREIGN KEY (project_id)
    REFERENCES app.projects (id) ON DELETE SET NULL ON UPDATE CASCADE,
  CONSTRAINT token_usage_user_id_fkey FOREIGN KEY (user_id)
    REFERENCES app.users (id) ON DELETE SET NULL ON UPDATE CASCADE,
  CONSTRAINT token_usage_episode_id_fkey FOREIGN KEY (episode_id)
    REFERENCES app.episodes (id) ON DELETE SET NULL ON UPDATE CASCADE,
  CONSTRAINT token_usage_chat_session_id_fkey FOREIGN KEY (chat_session_id)
    REFERENCES app.chat_sessions (id) ON DELETE SET NULL ON UPDATE CASCADE,
  CONSTRAINT token_usage_model_used_check CHECK (char_length(btrim(model_used)) BETWEEN 1 AND 100),
  CONSTRAINT token_usage_input_tokens_check CHECK (input_tokens >= 0),
  CONSTRAINT token_usage_output_tokens_check CHECK (output_tokens >= 0),
  CONSTRAINT token_usage_cost_gbp_check CHECK (cost_gbp >= 0)
) PARTITION BY RANGE (created_at);

CREATE INDEX IF NOT EXISTS token_usage_project_id_created_at_idx ON app.token_usage (project_id, created_at);
CREATE INDEX IF NOT EXISTS token_usage_organization_id_created_at_idx ON app.token_usage (organization_id, created_at);
CREATE INDEX IF NOT EXISTS token_usage_user_id_idx ON app.token_usage (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS token_usage_episode_id_idx ON app.token_usage (episode_id) WHERE episode_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS token_usage_chat_session_id_idx ON app.token_usage (chat_session_id) WHERE chat_session_id IS NOT NULL;

SELECT app_private.create_month_partitions('app.token_usage', 2);
