-- 0201: app.engagement_events — implicit feedback on episodes (seed 000 P3): opened, scroll depth,
-- time on block. Append-only, monthly range partitions on created_at (PK includes created_at).
--   event_type references the app.engagement_event_types reference table (seed 004 #29 option B:
--     adding a type is an INSERT, not a schema change; a typo is a foreign-key error);
--   event_value jsonb object ({depth, blockId, duration});
--   indexes (user_id, episode_id) and (event_type, created_at) (seed 000 P3).
-- Serves: seed 000 P3 EngagementEvent, seed 004 #29, #30, #40.

CREATE TABLE IF NOT EXISTS app.engagement_event_types (
  code        text PRIMARY KEY,
  description text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT engagement_event_types_code_check CHECK (code ~ '^[a-z][a-z0-9_]{1,62}$')
);
INSERT INTO app.engagement_event_types (code, description) VALUES
  ('episode_opened', 'The user opened an episode'),
  ('scroll_depth', 'Furthest scroll depth reached, percent, in event_value.depth'),
  ('time_on_block', 'Seconds spent on a block, in event_value.duration'),
  ('episode_completed', 'The user reached the end of an episode'),
  ('block_shared', 'The user shared a block')
ON CONFLICT (code) DO NOTHING;

CREATE TABLE IF NOT EXISTS app.engagement_events (
  id              uuid NOT NULL DEFAULT extensions.gen_random_uuid(),
  created_at      timestamptz NOT NULL DEFAULT now(),
  organization_id uuid NOT NULL,
  user_id         uuid NOT NULL,
  episode_id      uuid NOT NULL,
  block_id        uuid,
  event_type      text NOT NULL,
  event_value     jsonb NOT NULL DEFAULT '{}',
  CONSTRAINT engagement_events_pkey PRIMARY KEY (id, created_at),
  CONSTRAINT engagement_events_organization_id_fkey FOREIGN KEY (organization_id)
    REFERENCES app.organizations (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT engagement_events_user_id_fkey FOREIGN KEY (user_id)
    REFERENCES app.users (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT engagement_events_episode_id_fkey FOREIGN KEY (episode_id)
    REFERENCES app.episodes (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT engagement_events_block_id_fkey FOREIGN KEY (block_id)
    REFERENCES app.blocks (id) ON DELETE SET NULL ON UPDATE CASCADE,
  CONSTRAINT engagement_events_event_type_fkey FOREIGN KEY (event_type)
    REFERENCES app.engagement_event_types (code) ON DELETE RESTRICT ON UPDATE CASCADE,
  CONSTRAINT engagement_events_event_value_check CHECK (jsonb_typeof(event_value) = 'object' AND pg_column_size(event_value) <= 8192),
  CONSTRAINT engagement_events_scroll_depth_check CHECK (
    event_type <> 'scroll_depth'
    OR (jsonb_typeof(event_value->'depth') = 'number' AND (event_value->>'depth')::numeric BETWEEN 0 AND 100))
) PARTITION BY RANGE (created_at);

CREATE INDEX IF NOT EXISTS engagement_events_user_id_episode_id_idx ON app.engagement_events (user_id, episode_id);
CREATE INDEX IF NOT EXISTS engagement_events_event_type_created_at_idx ON app.engagement_events (event_type, created_at);
CREATE INDEX IF NOT EXISTS engagement_events_episode_id_idx ON app.engagement_events (episode_id);
CREATE INDEX IF NOT EXISTS engagement_events_block_id_idx ON app.engagement_events (block_id) WHERE block_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS engagement_events_organization_id_created_at_idx ON app.engagement_events (organization_id, created_at);

SELECT app_private.create_month_partitions('app.engagement_events', 2);
