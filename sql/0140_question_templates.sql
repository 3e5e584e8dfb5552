-- 0140: app.question_templates — the catalogue of interview question templates the chat agent draws from
-- (seed 002). Global catalogue like app.scenarios: no organization_id.
--   focus / depth / category are enums, not free text (seed 002 #4, #5): app.interview_focus,
--     app.interview_depth, app.template_category ('technical', 'creative', 'reflective');
--   variables jsonb {"placeholders": [{"key", "description", "type", "required", "example"}]} with
--     its shape checked (seed 002 #6);
--   usage_count >= 0, last_used_at, enabled (seed 002 #5);
--   lookup "enabled templates by focus" through a partial index (seed 002 performance targets).
-- Serves: seed 002 #4, #5, #6, template lookup target; seed 004 #13, #39.

DO $$ BEGIN
  CREATE TYPE app.interview_focus AS ENUM ('goals', 'context', 'challenges', 'market', 'technology', 'regulation', 'reflection');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN
  CREATE TYPE app.interview_depth AS ENUM ('surface', 'moderate', 'deep');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN
  CREATE TYPE app.template_category AS ENUM ('technical', 'creative', 'reflective');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;

CREATE TABLE IF NOT EXISTS app.question_templates (
  id           uuid PRIMARY KEY DEFAULT extensions.gen_random_uuid(),
  code         text NOT NULL,
  focus        app.interview_focus NOT NULL,
  depth        app.interview_depth NOT NULL,
  category     app.template_category,
  template     text NOT NULL,
  variables    jsonb NOT NULL DEFAULT '{"placeholders": []}',
  language     text NOT NULL DEFAULT 'en',
  enabled      boolean NOT NULL DEFAULT true,
  usage_count  integer NOT NULL DEFAULT 0,
  last_used_at timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  deleted_at   timestamptz,
  deleted_by   uuid,
  CONSTRAINT question_templates_code_key UNIQUE (code),
  CONSTRAINT question_templates_code_check CHECK (code ~ '^[a-z][a-z0-9_]{1,62}$'),
  CONSTRAINT question_templates_template_check CHECK (char_length(btrim(template)) BETWEEN 1 AND 4000),
  CONSTRAINT question_templates_variables_check CHECK (
    jsonb_typeof(variables) = 'object'
    AND jsonb_typeof(variables->'placeholders') = 'array'
    AND NOT jsonb_path_exists(variables, '$.placeholders[*] ? (@.type() != "object")')
    AND NOT jsonb_path_exists(variables, '$.placeholders[*] ? (!exists(@.key) || @.key.type() != "string")')),
  CONSTRAINT question_templates_language_check CHECK (language ~ '^[a-z]{2}(-[A-Z]{2})?$'),
  CONSTRAINT question_templates_usage_count_check CHECK (usage_count >= 0),
  CONSTRAINT question_templates_last_used_check CHECK (last_used_at IS NULL OR usage_count > 0),
  CONSTRAINT question_templates_updated_after_created_check CHECK (updated_at >= created_at),
  CONSTRAINT question_templates_deleted_after_created_check CHECK (deleted_at IS NULL OR deleted_at >= created_at),
  CONSTRAINT question_templates_deleted_by_check CHECK (deleted_by IS NULL OR deleted_at IS NOT NULL)
);
-- Template lookup by focus (and depth) among enabled, live templates.
CREATE INDEX IF NOT EXISTS question_templates_focus_depth_idx
  ON app.question_templates (focus, depth) WHERE enabled AND deleted_at IS NULL;

CREATE OR REPLACE TRIGGER question_templates_set_updated_at
  BEFORE UPDATE ON app.question_templates
  FOR EACH ROW EXECUTE FUNCTION app_private.tg__set_updated_at();
