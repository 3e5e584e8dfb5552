-- 0123: app.highlights — a user's highlight of a passage of an episode (optionally of one block).
--   character range: 0 <= start_offset < end_offset;
--   index (user_id, episode_id, created_at DESC) (seed 000 P4); counter cache on episodes is issue 5.
-- Serves: seed 000 P4, seed 001 (Highlight table), seed 004 #40, seed 000 P1 (soft delete).

CREATE TABLE IF NOT EXISTS app.highlights (
  id              uuid PRIMARY KEY DEFAULT extensions.gen_random_uuid(),
  organization_id uuid NOT NULL,
  user_id         uuid NOT NULL,
  episode_id      uuid NOT NULL,
  block_id        uuid,
  quote           text NOT NULL,
  note            text,
  start_offset    integer NOT NULL,
  end_offset      integer NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  deleted_at      timestamptz,
  deleted_by      uuid,
  CONSTRAINT highlights_organization_id_fkey FOREIGN KEY (organization_id)
    REFERENCES app.organizations (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT highlights_user_id_fkey FOREIGN KEY (user_id)
    REFERENCES app.users (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT highlights_episode_id_fkey FOREIGN KEY (episode_id)
    REFERENCES app.episodes (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT highlights_block_id_fkey FOREIGN KEY (block_id)
    REFERENCES app.blocks (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT highlights_quote_check CHECK (char_length(quote) BETWEEN 1 AND 4000),
  CONSTRAINT highlights_note_check CHECK (note IS NULL OR char_length(note) <= 4000),
  CONSTRAINT highlights_offsets_check CHECK (start_offset >= 0 AND end_offset > start_offset),
  CONSTRAINT highlights_updated_after_created_check CHECK (updated_at >= created_at),
  CONSTRAINT highlights_deleted_after_created_check CHECK (deleted_at IS NULL OR deleted_at >= created_at),
  CONSTRAINT highlights_deleted_by_check CHECK (deleted_by IS NULL OR deleted_at IS NOT NULL)
);
-- A user's highlights in an episode, newest first; also serves the user_id FK.
CREATE INDEX IF NOT EXISTS highlights_user_id_episode_id_created_at_idx
  ON app.highlights (user_id, episode_id, created_at DESC);
CREATE INDEX IF NOT EXISTS highlights_episode_id_idx ON app.highlights (episode_id);
CREATE INDEX IF NOT EXISTS highlights_block_id_idx ON app.highlights (block_id) WHERE block_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS highlights_organization_id_idx ON app.highlights (organization_id);

CREATE OR REPLACE TRIGGER highlights_set_updated_at
  BEFORE UPDATE ON app.highlights
  FOR EACH ROW EXECUTE FUNCTION app_private.tg__set_updated_at();
