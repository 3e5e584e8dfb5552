-- 0124: app.planning_notes — a user's steer for the next episodes ("More on regulation please"), the
-- feedback loop of the Two-Loop Architecture (seed 001 round 2, priority 1).
--   status enum app.planning_note_status: pending -> acknowledged (seen by the AI) -> incorporated | archived
--     (seed 001 question 2 answered with both states); processed_at set exactly when not pending;
--     incorporated => incorporated_episode_id set.
--   note stays text here; issue 4 encrypts it (seed 000 P1) and will move the length check with it.
-- Serves: seed 001 PlanningNote, seed 000 P1 (soft delete), seed 003 §5.2 (status consistency), seed 004 #13, #40.

DO $$ BEGIN
  CREATE TYPE app.planning_note_status AS ENUM ('pending', 'acknowledged', 'incorporated', 'archived');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;

CREATE TABLE IF NOT EXISTS app.planning_notes (
  id                     uuid PRIMARY KEY DEFAULT extensions.gen_random_uuid(),
  organization_id        uuid NOT NULL,
  project_id             uuid NOT NULL,
  user_id                uuid NOT NULL,
  note                   text NOT NULL,
  status                 app.planning_note_status NOT NULL DEFAULT 'pending',
  processed_at           timestamptz,
  incorporated_episode_id uuid,
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now(),
  deleted_at             timestamptz,
  deleted_by             uuid,
  CONSTRAINT planning_notes_organization_id_fkey FOREIGN KEY (organization_id)
    REFERENCES app.organizations (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT planning_notes_project_id_fkey FOREIGN KEY (project_id)
    REFERENCES app.projects (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT planning_notes_user_id_fkey FOREIGN KEY (user_id)
    REFERENCES app.users (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT planning_notes_incorporated_episode_id_fkey FOREIGN KEY (incorporated_episode_id)
    REFERENCES app.episodes (id) ON DELETE SET NULL ON UPDATE CASCADE,
  CONSTRAINT planning_notes_note_check CHECK (char_length(btrim(note)) BETWEEN 1 AND 4000),
  CONSTRAINT planning_notes_processed_at_status_check CHECK ((status = 'pending') = (processed_at IS NULL)),
  CONSTRAINT planning_notes_processed_after_created_check CHECK (processed_at IS NULL OR processed_at >= created_at),
  CONSTRAINT planning_notes_incorporated_episode_check CHECK (
    status <> 'incorporated' OR incorporated_episode_id IS NOT NULL OR deleted_at IS NOT NULL),
  CONSTRAINT planning_notes_updated_after_created_check CHECK (updated_at >= created_at),
  CONSTRAINT planning_notes_deleted_after_created_check CHECK (deleted_at IS NULL OR deleted_at >= created_at),
  CONSTRAINT planning_notes_deleted_by_check CHECK (deleted_by IS NULL OR deleted_at IS NOT NULL)
);
-- Generator reads a project's pending notes oldest first; also serves the project_id FK.
CREATE INDEX IF NOT EXISTS planning_notes_project_id_status_created_at_idx
  ON app.planning_notes (project_id, status, created_at);
CREATE INDEX IF NOT EXISTS planning_notes_user_id_idx ON app.planning_notes (user_id);
CREATE INDEX IF NOT EXISTS planning_notes_organization_id_idx ON app.planning_notes (organization_id);
CREATE INDEX IF NOT EXISTS planning_notes_incorporated_episode_id_idx
  ON app.planning_notes (incorporated_episode_id) WHERE incorporated_episode_id IS NOT NULL;

CREATE OR REPLACE TRIGGER planning_notes_set_updated_at
  BEFORE UPDATE ON app.planning_notes
  FOR EACH ROW EXECUTE FUNCTION app_private.tg__set_updated_at();
