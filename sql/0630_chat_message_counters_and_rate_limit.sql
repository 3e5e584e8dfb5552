-- 0630: chat message behaviour on top of 0134's guards.
--   Session row lock: 0134's session-open check read the session FOR SHARE; this bundle also UPDATEs the
--     session row after each message (counts, last_message_at), and two inserts holding FOR SHARE that both
--     upgrade would deadlock. The check now takes FOR NO KEY UPDATE: it still conflicts with a concurrent
--     completion (seed 004 #3 guarantee unchanged), and messages of one session are written one at a time.
--   Rate limit (seed 004 #43), configurable in ops.rate_limits (a default row plus optional per-organization
--     rows): per session, user messages at least min_interval apart and at most max_events per per_interval.
--     Raises SQLSTATE P0429 (the app maps it to HTTP 429). An idempotent retry (same client_message_id as
--     a stored message) is not counted. A server clock that stepped back never blocks (a negative gap is
--     not "too soon").
--   Session counters (seed 004 #11, #22): message_count_main / message_count_helper count live (not
--     soft-deleted) messages; every stored message is final (0133: no streaming updates, no is_final), so an
--     insert counts once. Soft delete / restore / hard delete adjust them. An unknown chat_type raises
--     (#11: no silent ELSE). last_message_at is monotonic. Why this is no hot row: docs/behaviour.md — one
--     session is one user's conversation, already serialized by the lock above and bounded by the rate
--     limit; the multi-writer counters (per episode) go through deltas (0640).
-- Serves: seed 004 #3, #11, #22, #43; seed 000 P4 counter caches.
-- pgkit:replaces sha256:84a3c148869cf95a53d1438640a19b71ddf717c142ff8a7d91153e6515d49be0
-- What this file wrote of functions and views (their definitions, grants, comments and triggers) now lives in
--   sql/definitions/: app_private.tg_chat_messages__session_open.sql,
--   app_private.chat_message_count_change.sql, app_private.tg_chat_messages__count.sql.

CREATE TABLE IF NOT EXISTS ops.rate_limits (
  id              uuid PRIMARY KEY DEFAULT extensions.gen_random_uuid(),
  name            text NOT NULL,
  organization_id uuid,
  enabled         boolean NOT NULL DEFAULT true,
  min_interval    interval NOT NULL DEFAULT interval '0',
  max_events      integer NOT NULL,
  per_interval    interval NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT rate_limits_organization_id_fkey FOREIGN KEY (organization_id)
    REFERENCES app.organizations (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT rate_limits_name_organization_id_key UNIQUE NULLS NOT DISTINCT (name, organization_id),
  CONSTRAINT rate_limits_name_check CHECK (name ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$'),
  CONSTRAINT rate_limits_min_interval_check CHECK (min_interval >= interval '0' AND min_interval <= interval '1 day'),
  CONSTRAINT rate_limits_max_events_check CHECK (max_events BETWEEN 1 AND 100000),
  CONSTRAINT rate_limits_per_interval_check CHECK (per_interval > interval '0' AND per_interval <= interval '1 day'),
  CONSTRAINT rate_limits_updated_after_created_check CHECK (updated_at >= created_at)
);
COMMENT ON TABLE ops.rate_limits IS
  'Database-enforced rate limits. organization_id NULL = the default; an organization row overrides it.';
CREATE INDEX IF NOT EXISTS rate_limits_organization_id_idx ON ops.rate_limits (organization_id) WHERE organization_id IS NOT NULL;

CREATE OR REPLACE TRIGGER rate_limits_set_updated_at
  BEFORE UPDATE ON ops.rate_limits
  FOR EACH ROW EXECUTE FUNCTION app_private.tg__set_updated_at();

INSERT INTO ops.rate_limits (name, organization_id, min_interval, max_events, per_interval)
VALUES ('chat_messages.user', NULL, interval '500 milliseconds', 20, interval '1 minute')
ON CONFLICT (name, organization_id) DO NOTHING;
