-- 0211: ops.logs — operational log lines (seed 004's logs): API calls, job runs, cleanup results.
-- Append-only, monthly range partitions on created_at (seed 004 #30); 30-day retention by dropping
-- partitions is issue 5.
--   level enum ops.log_level; event_type references the ops.log_event_types reference table instead of
--     a hard-coded CHECK list (seed 004 #29 option B);
--   metadata jsonb object with a GIN index (#23); session logs partial index (session_id, created_at DESC)
--     WHERE session_id IS NOT NULL (#19).
--   organization_id / user_id / session_id carry no foreign key: a log line must be writable and
--     must survive while its subject is being deleted; erasure (issue 4) scrubs by user_id.
-- Serves: seed 004 #19, #23, #29, #30, #32/#45 (the table job results and errors are logged to).

DO $$ BEGIN
  CREATE TYPE ops.log_level AS ENUM ('debug', 'info', 'warn', 'error', 'fatal');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;

CREATE TABLE IF NOT EXISTS ops.log_event_types (
  code        text PRIMARY KEY,
  description text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT log_event_types_code_check CHECK (code ~ '^[a-z][a-z0-9_]{1,62}$')
);
INSERT INTO ops.log_event_types (code, description) VALUES
  ('api_call_started', 'An outbound AI/API call started'),
  ('api_call_completed', 'An outbound AI/API call finished'),
  ('api_call_failed', 'An outbound AI/API call failed'),
  ('session_started', 'A chat session started'),
  ('session_completed', 'A chat session completed'),
  ('episode_generation_started', 'Episode generation started'),
  ('episode_generation_failed', 'Episode generation failed'),
  ('queue_item_blocked', 'A queue item was blocked by the cost circuit breaker'),
  ('cleanup_completed', 'A maintenance job finished; metadata holds job_id, counts, time window'),
  ('cleanup_failed', 'A maintenance job failed; metadata holds job_id and the error'),
  ('weekly_reset_completed', 'The weekly limit reset finished')
ON CONFLICT (code) DO NOTHING;

CREATE TABLE IF NOT EXISTS ops.logs (
  id              uuid NOT NULL DEFAULT extensions.gen_random_uuid(),
  created_at      timestamptz NOT NULL DEFAULT now(),
  level           ops.log_level NOT NULL DEFAULT 'info',
  event_type      text NOT NULL,
  message         text NOT NULL,
  organization_id uuid,
  user_id         uuid,
  session_id      uuid,
  metadata        jsonb NOT NULL DEFAULT '{}',
  CONSTRAINT logs_pkey PRIMARY KEY (id, created_at),
  CONSTRAINT logs_event_type_fkey FOREIGN KEY (event_type)
    REFERENCES ops.log_event_types (code) ON DELETE RESTRICT ON UPDATE CASCADE,
  CONSTRAINT logs_message_check CHECK (char_length(message) BETWEEN 1 AND 8000),
  CONSTRAINT logs_metadata_check CHECK (jsonb_typeof(metadata) = 'object')
) PARTITION BY RANGE (created_at);

CREATE INDEX IF NOT EXISTS logs_session_id_created_at_idx ON ops.logs (session_id, created_at DESC) WHERE session_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS logs_metadata_idx ON ops.logs USING gin (metadata jsonb_path_ops);
CREATE INDEX IF NOT EXISTS logs_event_type_created_at_idx ON ops.logs (event_type, created_at);
CREATE INDEX IF NOT EXISTS logs_user_id_created_at_idx ON ops.logs (user_id, created_at DESC) WHERE user_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS logs_created_at_errors_idx ON ops.logs (created_at DESC) WHERE level IN ('error', 'fatal');

SELECT app_private.create_month_partitions('ops.logs', 2);
