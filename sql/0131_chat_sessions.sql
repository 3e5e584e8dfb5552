-- 0131: app.chat_sessions — one conversation of a user (seed 004's sessions; seed 001 ChatSession),
-- optionally about an episode and/or a scenario.
--   One creation timestamp: created_at is when the session started; there is no separate started_at
--     (seed 004 #5 redundant columns, #39 naming).
--   is_completed <=> completed_at IS NOT NULL (seed 004 #1), completed_at >= created_at (#8);
--     duration_seconds is a generated column, so it can never disagree with the timestamps nor be
--     negative (#12; CHECK kept as a backstop).
--   message_count_main / message_count_helper >= 0 (#8), last_message_at (for issue 5's rate limit, #43).
--   Indexes: history partial (user_id, scenario_id, completed_at DESC) WHERE is_completed (#20),
--     (user_id, scenario_id, is_completed) (#20), (scenario_id, is_completed) (#41).
-- Serves: seed 004 #1, #5, #8, #12, #20, #35, #39, #40, #41; seed 001 ChatSession.

CREATE TABLE IF NOT EXISTS app.chat_sessions (
  id                   uuid PRIMARY KEY DEFAULT extensions.gen_random_uuid(),
  organization_id      uuid NOT NULL,
  user_id              uuid NOT NULL,
  project_id           uuid,
  episode_id           uuid,
  scenario_id          uuid,
  title                text,
  is_completed         boolean NOT NULL DEFAULT false,
  completed_at         timestamptz,
  duration_seconds     integer GENERATED ALWAYS AS (
                         CASE WHEN completed_at IS NULL THEN NULL
                              ELSE floor(extract(epoch FROM (completed_at - created_at)))::integer END) STORED,
  message_count_main   integer NOT NULL DEFAULT 0,
  message_count_helper integer NOT NULL DEFAULT 0,
  last_message_at      timestamptz,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  deleted_at           timestamptz,
  deleted_by           uuid,
  CONSTRAINT chat_sessions_organization_id_fkey FOREIGN KEY (organization_id)
    REFERENCES app.organizations (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT chat_sessions_user_id_fkey FOREIGN KEY (user_id)
    REFERENCES app.users (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT chat_sessions_project_id_fkey FOREIGN KEY (project_id)
    REFERENCES app.projects (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT chat_sessions_episode_id_fkey FOREIGN KEY (episode_id)
    REFERENCES app.episodes (id) ON DELETE SET NULL ON UPDATE CASCADE,
  CONSTRAINT chat_sessions_scenario_id_fkey FOREIGN KEY (scenario_id)
    REFERENCES app.scenarios (id) ON DELETE RESTRICT ON UPDATE CASCADE,
  CONSTRAINT chat_sessions_title_check CHECK (title IS NULL OR char_length(title) <= 200),
  CONSTRAINT chat_sessions_completed_at_check CHECK (is_completed = (completed_at IS NOT NULL)),
  CONSTRAINT chat_sessions_completed_after_created_check CHECK (completed_at IS NULL OR completed_at >= created_at),
  CONSTRAINT chat_sessions_duration_seconds_check CHECK (duration_seconds IS NULL OR duration_seconds >= 0),
  CONSTRAINT chat_sessions_message_counts_check CHECK (message_count_main >= 0 AND message_count_helper >= 0),
  CONSTRAINT chat_sessions_last_message_after_created_check CHECK (last_message_at IS NULL OR last_message_at >= created_at),
  CONSTRAINT chat_sessions_updated_after_created_check CHECK (updated_at >= created_at),
  CONSTRAINT chat_sessions_deleted_after_created_check CHECK (deleted_at IS NULL OR deleted_at >= created_at),
  CONSTRAINT chat_sessions_deleted_by_check CHECK (deleted_by IS NULL OR deleted_at IS NOT NULL)
);

-- A user's completed history of a scenario, newest first (seed 004 #20).
CREATE INDEX IF NOT EXISTS chat_sessions_user_id_scenario_id_completed_at_idx
  ON app.chat_sessions (user_id, scenario_id, completed_at DESC) WHERE is_completed;
-- All of a user's sessions by scenario and state (seed 004 #20); serves the user_id FK.
CREATE INDEX IF NOT EXISTS chat_sessions_user_id_scenario_id_is_completed_idx
  ON app.chat_sessions (user_id, scenario_id, is_completed);
-- "How many completed scenario X" (seed 004 #41); serves the scenario_id FK.
CREATE INDEX IF NOT EXISTS chat_sessions_scenario_id_is_completed_idx
  ON app.chat_sessions (scenario_id, is_completed);
CREATE INDEX IF NOT EXISTS chat_sessions_project_id_idx ON app.chat_sessions (project_id) WHERE project_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS chat_sessions_episode_id_idx ON app.chat_sessions (episode_id) WHERE episode_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS chat_sessions_organization_id_idx ON app.chat_sessions (organization_id);

CREATE OR REPLACE TRIGGER chat_sessions_set_updated_at
  BEFORE UPDATE ON app.chat_sessions
  FOR EACH ROW EXECUTE FUNCTION app_private.tg__set_updated_at();
