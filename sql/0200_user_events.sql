-- 0200: app.user_events — flexible product events instead of a UserJourney table of boolean flags
-- (seed 001 "event-driven architecture"; seed 000 P3 engagement gradients are derived from events).
-- Append-only, monthly range partitions on created_at (PK includes created_at), DEFAULT + 3 months.
--   event_type: dotted/underscored lower-case code, validated by shape, not a hard-coded list
--     (seed 004 #29: new event types need no migration); event_data jsonb object.
-- Serves: seed 001 UserEvent, seed 000 P3 (decline of UserJourney booleans), seed 004 #29, #30, #40.

CREATE TABLE IF NOT EXISTS app.user_events (
  id              uuid NOT NULL DEFAULT extensions.gen_random_uuid(),
  created_at      timestamptz NOT NULL DEFAULT now(),
  organization_id uuid NOT NULL,
  user_id         uuid NOT NULL,
  event_type      text NOT NULL,
  event_data      jsonb NOT NULL DEFAULT '{}',
  CONSTRAINT user_events_pkey PRIMARY KEY (id, created_at),
  CONSTRAINT user_events_organization_id_fkey FOREIGN KEY (organization_id)
    REFERENCES app.organizations (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT user_events_user_id_fkey FOREIGN KEY (user_id)
    REFERENCES app.users (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT user_events_event_type_check CHECK (event_type ~ '^[a-z][a-z0-9_]{0,62}(\.[a-z][a-z0-9_]{0,62}){0,3}$'),
  CONSTRAINT user_events_event_data_check CHECK (jsonb_typeof(event_data) = 'object' AND pg_column_size(event_data) <= 16384)
) PARTITION BY RANGE (created_at);

CREATE INDEX IF NOT EXISTS user_events_user_id_created_at_idx ON app.user_events (user_id, created_at DESC);
CREATE INDEX IF NOT EXISTS user_events_event_type_created_at_idx ON app.user_events (event_type, created_at);
CREATE INDEX IF NOT EXISTS user_events_organization_id_created_at_idx ON app.user_events (organization_id, created_at);

SELECT app_private.create_month_partitions('app.user_events', 2);
