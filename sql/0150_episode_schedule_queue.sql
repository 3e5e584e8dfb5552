-- 0150: app.episode_schedule_queue — source of truth for episode generation scheduling (seed 001 #1).
--   status enum app.queue_status: pending, processing, completed, failed, cancelled, blocked
--     ('blocked' = stopped by the daily cost circuit breaker, seed 001);
--   scheduled_for (UTC), picked_up_at, completed_at, attempt_count <= max_attempts, last_error,
--   last_attempt_at, next_attempt_at (backoff), locked_by + lease_expires_at (worker lease),
--   episode_id (result), metadata jsonb object ({user_timezone, user_local_time}).
--   Status/field consistency by CHECK: processing => picked_up_at and lease set; completed <=> completed_at;
--     failed/blocked => last_error.
--   No two live items for the same project and time: partial unique key.
--   Due items: partial index (scheduled_for) WHERE status = 'pending' for
--     ... WHERE status = 'pending' AND scheduled_for <= now() ORDER BY scheduled_for LIMIT n FOR UPDATE SKIP LOCKED.
--   Claim/complete/fail functions with backoff are issue 5.
-- Serves: seed 001 queue table, queue processing, backoff columns, timezone metadata, circuit breaker
--         status; seed 003 §5.2 (status consistency); seed 004 #13, #40.

DO $$ BEGIN
  CREATE TYPE app.queue_status AS ENUM ('pending', 'processing', 'completed', 'failed', 'cancelled', 'blocked');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;

CREATE TABLE IF NOT EXISTS app.episode_schedule_queue (
  id               uuid PRIMARY KEY DEFAULT extensions.gen_random_uuid(),
  organization_id  uuid NOT NULL,
  project_id       uuid NOT NULL,
  episode_id       uuid,
  status           app.queue_status NOT NULL DEFAULT 'pending',
  scheduled_for    timestamptz NOT NULL,
  picked_up_at     timestamptz,
  completed_at     timestamptz,
  attempt_count    integer NOT NULL DEFAULT 0,
  max_attempts     integer NOT NULL DEFAULT 3,
  last_error       text,
  last_attempt_at  timestamptz,
  next_attempt_at  timestamptz,
  locked_by        text,
  lease_expires_at timestamptz,
  metadata         jsonb NOT NULL DEFAULT '{}',
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT episode_schedule_queue_organization_id_fkey FOREIGN KEY (organization_id)
    REFERENCES app.organizations (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT episode_schedule_queue_project_id_fkey FOREIGN KEY (project_id)
    REFERENCES app.projects (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT episode_schedule_queue_episode_id_fkey FOREIGN KEY (episode_id)
    REFERENCES app.episodes (id) ON DELETE SET NULL ON UPDATE CASCADE,
  CONSTRAINT episode_schedule_queue_attempt_count_check CHECK (attempt_count >= 0 AND attempt_count <= max_attempts),
  CONSTRAINT episode_schedule_queue_max_attempts_check CHECK (max_attempts BETWEEN 1 AND 20),
  CONSTRAINT episode_schedule_queue_processing_check CHECK (
    status <> 'processing' OR (picked_up_at IS NOT NULL AND lease_expires_at IS NOT NULL)),
  CONSTRAINT episode_schedule_queue_completed_at_check CHECK ((status = 'completed') = (completed_at IS NOT NULL)),
  CONSTRAINT episode_schedule_queue_completed_after_picked_up_check CHECK (
    completed_at IS NULL OR picked_up_at IS NULL OR completed_at >= picked_up_at),
  CONSTRAINT episode_schedule_queue_last_error_check CHECK (
    status NOT IN ('failed', 'blocked') OR last_error IS NOT NULL),
  CONSTRAINT episode_schedule_queue_last_error_size_check CHECK (last_error IS NULL OR char_length(last_error) <= 4000),
  CONSTRAINT episode_schedule_queue_last_attempt_check CHECK (last_attempt_at IS NULL OR attempt_count > 0),
  CONSTRAINT episode_schedule_queue_lease_check CHECK ((locked_by IS NULL) = (lease_expires_at IS NULL)),
  CONSTRAINT episode_schedule_queue_metadata_check CHECK (jsonb_typeof(metadata) = 'object'),
  CONSTRAINT episode_schedule_queue_updated_after_created_check CHECK (updated_at >= created_at)
);

-- Due items for the claiming worker.
CREATE INDEX IF NOT EXISTS episode_schedule_queue_scheduled_for_idx
  ON app.episode_schedule_queue (scheduled_for) WHERE status = 'pending';
-- Expired leases for the reaper.
CREATE INDEX IF NOT EXISTS episode_schedule_queue_lease_expires_at_idx
  ON app.episode_schedule_queue (lease_expires_at) WHERE status = 'processing';
-- One live item per project and slot (partial, so the project_id FK gets its own full index below).
CREATE UNIQUE INDEX IF NOT EXISTS episode_schedule_queue_project_id_scheduled_for_key
  ON app.episode_schedule_queue (project_id, scheduled_for) WHERE status IN ('pending', 'processing', 'blocked');
CREATE INDEX IF NOT EXISTS episode_schedule_queue_project_id_idx ON app.episode_schedule_queue (project_id);
-- Circuit breaker blocks an organization's pending items.
CREATE INDEX IF NOT EXISTS episode_schedule_queue_organization_id_status_idx
  ON app.episode_schedule_queue (organization_id, status);
CREATE INDEX IF NOT EXISTS episode_schedule_queue_episode_id_idx
  ON app.episode_schedule_queue (episode_id) WHERE episode_id IS NOT NULL;

CREATE OR REPLACE TRIGGER episode_schedule_queue_set_updated_at
  BEFORE UPDATE ON app.episode_schedule_queue
  FOR EACH ROW EXECUTE FUNCTION app_private.tg__set_updated_at();
