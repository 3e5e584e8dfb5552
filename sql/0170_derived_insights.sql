-- 0170: app.derived_insights — what a chat session taught us, and which episode used it (seed 000 P2
-- "feedback loop tracking").
--   insight_type enum app.insight_type; insight_value jsonb object; confidence 0..1;
--   applied_to_episode_id and applied_at set together (and applied after created).
-- Serves: seed 000 P2 DerivedInsight (+ index on project_id), seed 004 #13, #40, seed 000 P1 (soft delete).

DO $$ BEGIN
  CREATE TYPE app.insight_type AS ENUM ('topic_interest', 'confusion_point', 'preference', 'open_question');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;

CREATE TABLE IF NOT EXISTS app.derived_insights (
  id                    uuid PRIMARY KEY DEFAULT extensions.gen_random_uuid(),
  organization_id       uuid NOT NULL,
  project_id            uuid NOT NULL,
  session_id            uuid,
  insight_type          app.insight_type NOT NULL,
  insight_value         jsonb NOT NULL,
  confidence            numeric(4,3),
  applied_to_episode_id uuid,
  applied_at            timestamptz,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  deleted_at            timestamptz,
  deleted_by            uuid,
  CONSTRAINT derived_insights_organization_id_fkey FOREIGN KEY (organization_id)
    REFERENCES app.organizations (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT derived_insights_project_id_fkey FOREIGN KEY (project_id)
    REFERENCES app.projects (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT derived_insights_session_id_fkey FOREIGN KEY (session_id)
    REFERENCES app.chat_sessions (id) ON DELETE SET NULL ON UPDATE CASCADE,
  CONSTRAINT derived_insights_applied_to_episode_id_fkey FOREIGN KEY (applied_to_episode_id)
    REFERENCES app.episodes (id) ON DELETE SET NULL ON UPDATE CASCADE,
  CONSTRAINT derived_insights_insight_value_check CHECK (jsonb_typeof(insight_value) = 'object'),
  CONSTRAINT derived_insights_confidence_check CHECK (confidence IS NULL OR confidence BETWEEN 0 AND 1),
  CONSTRAINT derived_insights_applied_check CHECK (applied_at IS NULL OR applied_to_episode_id IS NOT NULL OR deleted_at IS NOT NULL),
  CONSTRAINT derived_insights_applied_at_check CHECK (applied_to_episode_id IS NULL OR applied_at IS NOT NULL),
  CONSTRAINT derived_insights_applied_after_created_check CHECK (applied_at IS NULL OR applied_at >= created_at),
  CONSTRAINT derived_insights_updated_after_created_check CHECK (updated_at >= created_at),
  CONSTRAINT derived_insights_deleted_after_created_check CHECK (deleted_at IS NULL OR deleted_at >= created_at),
  CONSTRAINT derived_insights_deleted_by_check CHECK (deleted_by IS NULL OR deleted_at IS NOT NULL)
);
-- Unapplied insights of a project come first for the generator; serves the project_id FK.
CREATE INDEX IF NOT EXISTS derived_insights_project_id_created_at_idx ON app.derived_insights (project_id, created_at);
CREATE INDEX IF NOT EXISTS derived_insights_session_id_idx ON app.derived_insights (session_id) WHERE session_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS derived_insights_applied_to_episode_id_idx
  ON app.derived_insights (applied_to_episode_id) WHERE applied_to_episode_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS derived_insights_organization_id_idx ON app.derived_insights (organization_id);

CREATE OR REPLACE TRIGGER derived_insights_set_updated_at
  BEFORE UPDATE ON app.derived_insights
  FOR EACH ROW EXECUTE FUNCTION app_private.tg__set_updated_at();
