-- 0125: app.agent_memory — what the agent remembers about a project (seed 001 round 2: "create the
-- structure now"). Replaces the projects.memories JSON array outright: one home for memories.
--   memory_type enum app.agent_memory_type; importance 0..1; expires_at after created_at.
--   Vector search over memories goes through app.rag_embeddings (source_type 'agent_memory'),
--   answering seed 001 question 4 (memory indexes for similarity search).
-- Serves: seed 001 AgentMemory, seed 004 #13, #40, seed 000 P1 (soft delete).

DO $$ BEGIN
  CREATE TYPE app.agent_memory_type AS ENUM ('preference', 'fact', 'instruction', 'context');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;

CREATE TABLE IF NOT EXISTS app.agent_memory (
  id              uuid PRIMARY KEY DEFAULT extensions.gen_random_uuid(),
  organization_id uuid NOT NULL,
  project_id      uuid NOT NULL,
  memory_type     app.agent_memory_type NOT NULL DEFAULT 'preference',
  content         text NOT NULL,
  importance      real NOT NULL DEFAULT 0.5,
  expires_at      timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  deleted_at      timestamptz,
  deleted_by      uuid,
  CONSTRAINT agent_memory_organization_id_fkey FOREIGN KEY (organization_id)
    REFERENCES app.organizations (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT agent_memory_project_id_fkey FOREIGN KEY (project_id)
    REFERENCES app.projects (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT agent_memory_content_check CHECK (char_length(btrim(content)) BETWEEN 1 AND 4000),
  CONSTRAINT agent_memory_importance_check CHECK (importance >= 0 AND importance <= 1),
  CONSTRAINT agent_memory_expires_after_created_check CHECK (expires_at IS NULL OR expires_at > created_at),
  CONSTRAINT agent_memory_updated_after_created_check CHECK (updated_at >= created_at),
  CONSTRAINT agent_memory_deleted_after_created_check CHECK (deleted_at IS NULL OR deleted_at >= created_at),
  CONSTRAINT agent_memory_deleted_by_check CHECK (deleted_by IS NULL OR deleted_at IS NOT NULL)
);
-- Live memories of a project, most important first; also serves the project_id FK.
CREATE INDEX IF NOT EXISTS agent_memory_project_id_importance_idx
  ON app.agent_memory (project_id, importance DESC) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS agent_memory_project_id_idx ON app.agent_memory (project_id);
CREATE INDEX IF NOT EXISTS agent_memory_organization_id_idx ON app.agent_memory (organization_id);

CREATE OR REPLACE TRIGGER agent_memory_set_updated_at
  BEFORE UPDATE ON app.agent_memory
  FOR EACH ROW EXECUTE FUNCTION app_private.tg__set_updated_at();
