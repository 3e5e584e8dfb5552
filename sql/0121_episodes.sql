-- 0121: app.episodes — one generated issue of a project.
--   status enum app.episode_status; status/field consistency: published <=> published_at set
--     (archived may keep it), failed => at least one recorded generation error;
--   generation_attempts (>= 0) and generation_errors (jsonb array, history of failures) (seed 001);
--   counter caches highlight_count / chat_message_count (>= 0; maintained by issue 5's triggers) (seed 000 P4);
--   index (project_id, status, published_at DESC) for the episode list (seed 000 P4, seed 003 §2.3 pagination).
-- Serves: seed 000 P4, seed 001 (failed generation tracking), seed 003 §1.3.1/§5.2 (enums, status consistency),
--         seed 004 #13, #39, #40.

DO $$ BEGIN
  CREATE TYPE app.episode_status AS ENUM ('draft', 'generating', 'ready', 'published', 'failed', 'archived');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;

CREATE TABLE IF NOT EXISTS app.episodes (
  id                  uuid PRIMARY KEY DEFAULT extensions.gen_random_uuid(),
  organization_id     uuid NOT NULL,
  project_id          uuid NOT NULL,
  episode_number      integer NOT NULL,
  title               text NOT NULL,
  status              app.episode_status NOT NULL DEFAULT 'draft',
  published_at        timestamptz,
  generation_attempts integer NOT NULL DEFAULT 0,
  generation_errors   jsonb NOT NULL DEFAULT '[]',
  highlight_count     integer NOT NULL DEFAULT 0,
  chat_message_count  integer NOT NULL DEFAULT 0,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  deleted_at          timestamptz,
  deleted_by          uuid,
  CONSTRAINT episodes_organization_id_fkey FOREIGN KEY (organization_id)
    REFERENCES app.organizations (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT episodes_project_id_fkey FOREIGN KEY (project_id)
    REFERENCES app.projects (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT episodes_project_id_episode_number_key UNIQUE (project_id, episode_number),
  CONSTRAINT episodes_episode_number_check CHECK (episode_number > 0),
  CONSTRAINT episodes_title_check CHECK (char_length(btrim(title)) BETWEEN 1 AND 300),
  CONSTRAINT episodes_published_at_status_check CHECK (
    (status = 'published' AND published_at IS NOT NULL)
    OR (status = 'archived')
    OR (status NOT IN ('published', 'archived') AND published_at IS NULL)),
  CONSTRAINT episodes_published_after_created_check CHECK (published_at IS NULL OR published_at >= created_at),
  CONSTRAINT episodes_generation_attempts_check CHECK (generation_attempts >= 0),
  CONSTRAINT episodes_generation_errors_check CHECK (
    jsonb_typeof(generation_errors) = 'array' AND jsonb_array_length(generation_errors) <= 100),
  CONSTRAINT episodes_failed_has_error_check CHECK (status <> 'failed' OR jsonb_array_length(generation_errors) > 0),
  CONSTRAINT episodes_highlight_count_check CHECK (highlight_count >= 0),
  CONSTRAINT episodes_chat_message_count_check CHECK (chat_message_count >= 0),
  CONSTRAINT episodes_updated_after_created_check CHECK (updated_at >= created_at),
  CONSTRAINT episodes_deleted_after_created_check CHECK (deleted_at IS NULL OR deleted_at >= created_at),
  CONSTRAINT episodes_deleted_by_check CHECK (deleted_by IS NULL OR deleted_at IS NOT NULL)
);

-- Episode list of a project by status, newest published first. Also serves the project_id FK.
CREATE INDEX IF NOT EXISTS episodes_project_id_status_published_at_idx
  ON app.episodes (project_id, status, published_at DESC);
CREATE INDEX IF NOT EXISTS episodes_organization_id_idx ON app.episodes (organization_id);

CREATE OR REPLACE TRIGGER episodes_set_updated_at
  BEFORE UPDATE ON app.episodes
  FOR EACH ROW EXECUTE FUNCTION app_private.tg__set_updated_at();
