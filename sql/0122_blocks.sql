-- 0122: app.blocks — ordered content of an episode (seed 001 "Block (simplified)": one markdown block to start).
--   structured, queryable fields instead of JSON blobs: reasoning, confidence 0..1 (seed 001);
--   metadata_version >= 1, generation_metadata jsonb object ({model, temperature, promptVersion}),
--   token_count >= 0 (seed 000 P2);
--   research_citations jsonb array with a GIN index (seed 000 P4);
--   (episode_id, position) unique: the read order, and the index for it (seed 000 P4).
-- Serves: seed 000 P2, P4; seed 001 Block; seed 003 §1.3.2; seed 004 #13, #40.

DO $$ BEGIN
  CREATE TYPE app.block_type AS ENUM ('markdown', 'heading', 'quote', 'callout');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;

CREATE TABLE IF NOT EXISTS app.blocks (
  id                  uuid PRIMARY KEY DEFAULT extensions.gen_random_uuid(),
  organization_id     uuid NOT NULL,
  episode_id          uuid NOT NULL,
  type                app.block_type NOT NULL DEFAULT 'markdown',
  position            integer NOT NULL,
  content             text NOT NULL,
  reasoning           text,
  confidence          numeric(4,3),
  research_citations  jsonb NOT NULL DEFAULT '[]',
  metadata_version    integer NOT NULL DEFAULT 1,
  generation_metadata jsonb,
  token_count         integer,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  deleted_at          timestamptz,
  deleted_by          uuid,
  CONSTRAINT blocks_organization_id_fkey FOREIGN KEY (organization_id)
    REFERENCES app.organizations (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT blocks_episode_id_fkey FOREIGN KEY (episode_id)
    REFERENCES app.episodes (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT blocks_episode_id_position_key UNIQUE (episode_id, position),
  CONSTRAINT blocks_position_check CHECK (position >= 0),
  CONSTRAINT blocks_content_check CHECK (char_length(content) <= 200000),
  CONSTRAINT blocks_confidence_check CHECK (confidence IS NULL OR confidence BETWEEN 0 AND 1),
  CONSTRAINT blocks_research_citations_check CHECK (jsonb_typeof(research_citations) = 'array'),
  CONSTRAINT blocks_metadata_version_check CHECK (metadata_version >= 1),
  CONSTRAINT blocks_generation_metadata_check CHECK (generation_metadata IS NULL OR jsonb_typeof(generation_metadata) = 'object'),
  CONSTRAINT blocks_token_count_check CHECK (token_count IS NULL OR token_count >= 0),
  CONSTRAINT blocks_updated_after_created_check CHECK (updated_at >= created_at),
  CONSTRAINT blocks_deleted_after_created_check CHECK (deleted_at IS NULL OR deleted_at >= created_at),
  CONSTRAINT blocks_deleted_by_check CHECK (deleted_by IS NULL OR deleted_at IS NOT NULL)
);
-- blocks_episode_id_position_key serves "blocks of an episode in order" and the episode_id FK.
CREATE INDEX IF NOT EXISTS blocks_organization_id_idx ON app.blocks (organization_id);
CREATE INDEX IF NOT EXISTS blocks_research_citations_idx ON app.blocks USING gin (research_citations jsonb_path_ops);

CREATE OR REPLACE TRIGGER blocks_set_updated_at
  BEFORE UPDATE ON app.blocks
  FOR EACH ROW EXECUTE FUNCTION app_private.tg__set_updated_at();
