-- 0130: app.scenarios — the catalogue of guided chat scenarios (seed 004's scenarios). Global catalogue,
-- not tenant data: no organization_id; what the public may see of it is issue 4 (seed 004 #28).
--   stable business key `code` (lower_snake_case, unique) instead of hand-assigned integer ids (seed 004 #34);
--   title unique, case-insensitive (seed 004 #17); emoji at most 16 bytes (seed 004 #16);
--   updated_at + sort_order for display (seed 004 #38); difficulty 1..5.
-- Serves: seed 004 #16, #17, #34, #38, #39; seed 000 P1 (soft delete).

CREATE TABLE IF NOT EXISTS app.scenarios (
  id            uuid PRIMARY KEY DEFAULT extensions.gen_random_uuid(),
  code          text NOT NULL,
  title         extensions.citext NOT NULL,
  emoji         text,
  description   text,
  system_prompt text NOT NULL DEFAULT '',
  difficulty    smallint NOT NULL DEFAULT 1,
  sort_order    smallint NOT NULL DEFAULT 0,
  is_published  boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  deleted_at    timestamptz,
  deleted_by    uuid,
  CONSTRAINT scenarios_code_key UNIQUE (code),
  CONSTRAINT scenarios_title_key UNIQUE (title),
  CONSTRAINT scenarios_code_check CHECK (code ~ '^[a-z][a-z0-9_]{1,62}$'),
  CONSTRAINT scenarios_title_check CHECK (char_length(btrim(title::text)) BETWEEN 1 AND 200),
  CONSTRAINT scenarios_emoji_check CHECK (emoji IS NULL OR octet_length(emoji) BETWEEN 1 AND 16),
  CONSTRAINT scenarios_description_check CHECK (description IS NULL OR char_length(description) <= 4000),
  CONSTRAINT scenarios_system_prompt_check CHECK (char_length(system_prompt) <= 32000),
  CONSTRAINT scenarios_difficulty_check CHECK (difficulty BETWEEN 1 AND 5),
  CONSTRAINT scenarios_updated_after_created_check CHECK (updated_at >= created_at),
  CONSTRAINT scenarios_deleted_after_created_check CHECK (deleted_at IS NULL OR deleted_at >= created_at),
  CONSTRAINT scenarios_deleted_by_check CHECK (deleted_by IS NULL OR deleted_at IS NOT NULL)
);
CREATE INDEX IF NOT EXISTS scenarios_sort_order_idx ON app.scenarios (sort_order, title) WHERE is_published AND deleted_at IS NULL;

CREATE OR REPLACE TRIGGER scenarios_set_updated_at
  BEFORE UPDATE ON app.scenarios
  FOR EACH ROW EXECUTE FUNCTION app_private.tg__set_updated_at();
