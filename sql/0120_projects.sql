-- 0120: app.projects — a subject an organization follows; episodes are generated for it on a cadence.
--   cadence_config jsonb (seed 001 "cadenceConfig"): {"mode": weekly|daily|weekdays|custom,
--     "days": [0..6, 0 = Sunday], "hour": 0..23 local}; shape enforced by CHECK;
--   next_scheduled_at is a user-facing cache only — app.episode_schedule_queue is the source of truth (seed 001 #1).
-- Serves: seed 001 (cadence, queue), seed 003 §1.3.2 (jsonb not text), seed 004 #40, #39, seed 000 P1 (soft delete).

CREATE TABLE IF NOT EXISTS app.projects (
  id                uuid PRIMARY KEY DEFAULT extensions.gen_random_uuid(),
  organization_id   uuid NOT NULL,
  name              text NOT NULL,
  description       text,
  cadence_config    jsonb NOT NULL DEFAULT '{"mode": "weekly", "days": [1], "hour": 9}',
  next_scheduled_at timestamptz,
  is_paused         boolean NOT NULL DEFAULT false,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  deleted_at        timestamptz,
  deleted_by        uuid,
  CONSTRAINT projects_organization_id_fkey FOREIGN KEY (organization_id)
    REFERENCES app.organizations (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT projects_name_check CHECK (char_length(btrim(name)) BETWEEN 1 AND 200),
  CONSTRAINT projects_description_check CHECK (description IS NULL OR char_length(description) <= 4000),
  CONSTRAINT projects_cadence_config_check CHECK (
    jsonb_typeof(cadence_config) = 'object'
    AND cadence_config->>'mode' IN ('weekly', 'daily', 'weekdays', 'custom')
    AND jsonb_typeof(cadence_config->'days') = 'array'
    AND jsonb_array_length(cadence_config->'days') BETWEEN 1 AND 7
    AND NOT jsonb_path_exists(cadence_config, '$.days[*] ? (@.type() != "number")')
    AND NOT jsonb_path_exists(cadence_config, '$.days[*] ? (@ < 0 || @ > 6 || @ != @.floor())')
    AND (NOT cadence_config ? 'hour'
         OR (jsonb_typeof(cadence_config->'hour') = 'number'
             AND (cadence_config->>'hour')::numeric BETWEEN 0 AND 23
             AND (cadence_config->>'hour')::numeric = floor((cadence_config->>'hour')::numeric)))),
  CONSTRAINT projects_updated_after_created_check CHECK (updated_at >= created_at),
  CONSTRAINT projects_deleted_after_created_check CHECK (deleted_at IS NULL OR deleted_at >= created_at),
  CONSTRAINT projects_deleted_by_check CHECK (deleted_by IS NULL OR deleted_at IS NOT NULL)
);
COMMENT ON COLUMN app.projects.next_scheduled_at IS 'Display cache; app.episode_schedule_queue is the source of truth for scheduling.';

CREATE INDEX IF NOT EXISTS projects_organization_id_idx ON app.projects (organization_id);

CREATE OR REPLACE TRIGGER projects_set_updated_at
  BEFORE UPDATE ON app.projects
  FOR EACH ROW EXECUTE FUNCTION app_private.tg__set_updated_at();
