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

-- Replaces 0134's body: same open check, stronger lock, plus the rate limit.
CREATE OR REPLACE FUNCTION app_private.tg_chat_messages__session_open()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_completed boolean;
  v_deleted   timestamptz;
  v_limit     ops.rate_limits%ROWTYPE;
  v_last      timestamptz;
  v_recent    integer;
  v_now       timestamptz := pg_catalog.now();
BEGIN
  SELECT s.is_completed, s.deleted_at INTO v_completed, v_deleted
  FROM app.chat_sessions s
  WHERE s.id = NEW.session_id
  FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RETURN NEW; -- the foreign key reports the missing session
  END IF;
  IF v_completed OR v_deleted IS NOT NULL THEN
    RAISE EXCEPTION 'chat session % is %; no new messages', NEW.session_id,
        CASE WHEN v_completed THEN 'completed' ELSE 'deleted' END
      USING ERRCODE = 'check_violation',
            CONSTRAINT = 'chat_messages_session_open_check',
            SCHEMA = 'app', TABLE = 'chat_messages';
  END IF;

  IF NEW.role <> 'user' THEN
    RETURN NEW;
  END IF;
  -- An idempotent retry of a stored message is left to the unique key (ON CONFLICT DO NOTHING or 23505).
  IF NEW.client_message_id IS NOT NULL AND EXISTS (
       SELECT 1 FROM app.chat_messages m
       WHERE m.session_id = NEW.session_id AND m.client_message_id = NEW.client_message_id) THEN
    RETURN NEW;
  END IF;

  SELECT * INTO v_limit FROM ops.rate_limits r
  WHERE r.name = 'chat_messages.user' AND (r.organization_id = NEW.organization_id OR r.organization_id IS NULL)
  ORDER BY r.organization_id NULLS LAST
  LIMIT 1;
  IF NOT FOUND OR NOT v_limit.enabled THEN
    RETURN NEW;
  END IF;

  IF v_limit.min_interval > interval '0' THEN
    SELECT m.created_at INTO v_last FROM app.chat_messages m
    WHERE m.session_id = NEW.session_id AND m.role = 'user'
    ORDER BY m.created_at DESC, m.id DESC
    LIMIT 1;
    IF v_last IS NOT NULL AND v_last <= v_now AND v_now - v_last < v_limit.min_interval THEN
      RAISE EXCEPTION 'rate limit: user messages in session % must be at least % apart', NEW.session_id, v_limit.min_interval
        USING ERRCODE = 'P0429',
              HINT = pg_catalog.format('retry after %s', v_last + v_limit.min_interval),
              SCHEMA = 'app', TABLE = 'chat_messages';
    END IF;
  END IF;

  SELECT count(*) INTO v_recent FROM (
    SELECT 1 FROM app.chat_messages m
    WHERE m.session_id = NEW.session_id AND m.role = 'user' AND m.created_at > v_now - v_limit.per_interval
    LIMIT v_limit.max_events) recent;
  IF v_recent >= v_limit.max_events THEN
    RAISE EXCEPTION 'rate limit: at most % user messages per % in session %', v_limit.max_events, v_limit.per_interval, NEW.session_id
      USING ERRCODE = 'P0429', SCHEMA = 'app', TABLE = 'chat_messages';
  END IF;
  RETURN NEW;
END
$$;

-- Applies a message count change to its session (and, through deltas, to its episode).
CREATE OR REPLACE FUNCTION app_private.chat_message_count_change(p_session_id uuid, p_chat_type app.chat_type, p_delta integer, p_created_at timestamptz)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_episode uuid;
BEGIN
  CASE p_chat_type::text
    WHEN 'main' THEN
      UPDATE app.chat_sessions s
      SET message_count_main = s.message_count_main + p_delta,
          last_message_at = CASE WHEN p_delta > 0
                                 THEN GREATEST(s.last_message_at, p_created_at, s.created_at)
                                 ELSE s.last_message_at END
      WHERE s.id = p_session_id
      RETURNING s.episode_id INTO v_episode;
    WHEN 'helper' THEN
      UPDATE app.chat_sessions s
      SET message_count_helper = s.message_count_helper + p_delta,
          last_message_at = CASE WHEN p_delta > 0
                                 THEN GREATEST(s.last_message_at, p_created_at, s.created_at)
                                 ELSE s.last_message_at END
      WHERE s.id = p_session_id
      RETURNING s.episode_id INTO v_episode;
    ELSE
      RAISE EXCEPTION 'invalid chat_type: %', p_chat_type
        USING ERRCODE = 'check_violation', CONSTRAINT = 'chat_messages_chat_type_check',
              SCHEMA = 'app', TABLE = 'chat_messages';
  END CASE;
  IF v_episode IS NOT NULL THEN
    INSERT INTO app_private.episode_counter_deltas (episode_id, chat_message_delta) VALUES (v_episode, p_delta);
  END IF;
END
$$;
REVOKE ALL ON FUNCTION app_private.chat_message_count_change(uuid, app.chat_type, integer, timestamptz) FROM PUBLIC;

CREATE OR REPLACE FUNCTION app_private.tg_chat_messages__count()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.deleted_at IS NULL THEN
      PERFORM app_private.chat_message_count_change(NEW.session_id, NEW.chat_type, 1, NEW.created_at);
    END IF;
  ELSIF TG_OP = 'UPDATE' THEN
    IF OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL THEN
      PERFORM app_private.chat_message_count_change(OLD.session_id, OLD.chat_type, -1, OLD.created_at);
    ELSIF OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL THEN
      PERFORM app_private.chat_message_count_change(NEW.session_id, NEW.chat_type, 1, NEW.created_at);
    END IF;
  ELSIF TG_OP = 'DELETE' THEN
    IF OLD.deleted_at IS NULL THEN
      PERFORM app_private.chat_message_count_change(OLD.session_id, OLD.chat_type, -1, OLD.created_at);
    END IF;
  END IF;
  RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER chat_messages_count
  AFTER INSERT OR DELETE OR UPDATE OF deleted_at ON app.chat_messages
  FOR EACH ROW EXECUTE FUNCTION app_private.tg_chat_messages__count();
