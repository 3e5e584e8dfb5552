-- 0161: app.token_usage_daily — per organization and UTC day roll-up of app.token_usage, the table limit
-- checks read instead of raw rows (seed 001 #2). Maintained by issue 5's trigger.
--   primary key (organization_id, usage_date); totals >= 0; total_tokens = input + output;
--   operation_breakdown jsonb object {operation: {tokens, cost}}; hourly_peak_tokens + peak_hour 0..23
--   set together (seed 001 enhancement); updated_at = "last_updated".
-- Serves: seed 001 TokenUsageDaily (+ hourly peak), seed 004 #40.

CREATE TABLE IF NOT EXISTS app.token_usage_daily (
  organization_id     uuid NOT NULL,
  usage_date          date NOT NULL,
  total_input_tokens  bigint NOT NULL DEFAULT 0,
  total_output_tokens bigint NOT NULL DEFAULT 0,
  total_tokens        bigint NOT NULL DEFAULT 0,
  total_cost_gbp      numeric(14,6) NOT NULL DEFAULT 0,
  episode_count       integer NOT NULL DEFAULT 0,
  call_count          integer NOT NULL DEFAULT 0,
  operation_breakdown jsonb NOT NULL DEFAULT '{}',
  hourly_peak_tokens  bigint,
  peak_hour           smallint,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT token_usage_daily_pkey PRIMARY KEY (organization_id, usage_date),
  CONSTRAINT token_usage_daily_organization_id_fkey FOREIGN KEY (organization_id)
    REFERENCES app.organizations (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT token_usage_daily_totals_check CHECK (
    total_input_tokens >= 0 AND total_output_tokens >= 0 AND total_cost_gbp >= 0
    AND episode_count >= 0 AND call_count >= 0),
  CONSTRAINT token_usage_daily_total_tokens_check CHECK (total_tokens = total_input_tokens + total_output_tokens),
  CONSTRAINT token_usage_daily_operation_breakdown_check CHECK (jsonb_typeof(operation_breakdown) = 'object'),
  CONSTRAINT token_usage_daily_peak_check CHECK (
    (hourly_peak_tokens IS NULL) = (peak_hour IS NULL)
    AND (peak_hour IS NULL OR peak_hour BETWEEN 0 AND 23)
    AND (hourly_peak_tokens IS NULL OR (hourly_peak_tokens >= 0 AND hourly_peak_tokens <= total_tokens))),
  CONSTRAINT token_usage_daily_updated_after_created_check CHECK (updated_at >= created_at)
);
-- The primary key's leading column serves the organization_id FK and "today's usage of org X".

CREATE OR REPLACE TRIGGER token_usage_daily_set_updated_at
  BEFORE UPDATE ON app.token_usage_daily
  FOR EACH ROW EXECUTE FUNCTION app_private.tg__set_updated_at();
