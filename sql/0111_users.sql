-- 0111: app.users — the person (seed 004's "profiles" and the seeds' User, one table).
--   email: citext, unique, non-empty and shaped like an address (seed 004 #42 option B, #25);
--   timezone: a real IANA name, default UTC (seed 001 timezone-aware scheduling);
--   weekly limits: weekly_completion_limit, current_week_completion_count, completed_scenario_count
--     (never negative, seed 004 #9/#10 columns; the counting triggers are issue 5),
--     week_reset_date always a Monday 00:00 UTC (seed 004 #2), defaulting to the next one;
--   soft delete deleted_at/deleted_by (seed 004 #35, seed 000 P1).
-- A user is global; tenancy comes from app.memberships.

CREATE TABLE IF NOT EXISTS app.users (
  id                            uuid PRIMARY KEY DEFAULT extensions.gen_random_uuid(),
  email                         extensions.citext NOT NULL,
  display_name                  text,
  timezone                      text NOT NULL DEFAULT 'UTC',
  weekly_completion_limit       integer NOT NULL DEFAULT 3,
  current_week_completion_count integer NOT NULL DEFAULT 0,
  completed_scenario_count      integer NOT NULL DEFAULT 0,
  week_reset_date               timestamptz NOT NULL
    DEFAULT ((date_trunc('week', now() AT TIME ZONE 'UTC') + interval '7 days') AT TIME ZONE 'UTC'),
  created_at                    timestamptz NOT NULL DEFAULT now(),
  updated_at                    timestamptz NOT NULL DEFAULT now(),
  deleted_at                    timestamptz,
  deleted_by                    uuid,
  CONSTRAINT users_email_key UNIQUE (email),
  CONSTRAINT users_email_check CHECK (char_length(email::text) BETWEEN 3 AND 320 AND email::text ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'),
  CONSTRAINT users_display_name_check CHECK (display_name IS NULL OR char_length(display_name) BETWEEN 1 AND 200),
  CONSTRAINT users_timezone_check CHECK (app_private.is_valid_timezone(timezone)),
  CONSTRAINT users_weekly_completion_limit_check CHECK (weekly_completion_limit > 0),
  CONSTRAINT users_current_week_completion_count_check CHECK (current_week_completion_count >= 0),
  CONSTRAINT users_completed_scenario_count_check CHECK (completed_scenario_count >= 0),
  CONSTRAINT users_week_reset_date_monday_check CHECK (
    week_reset_date = (date_trunc('week', week_reset_date AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')),
  CONSTRAINT users_updated_after_created_check CHECK (updated_at >= created_at),
  CONSTRAINT users_deleted_after_created_check CHECK (deleted_at IS NULL OR deleted_at >= created_at),
  CONSTRAINT users_deleted_by_check CHECK (deleted_by IS NULL OR deleted_at IS NOT NULL)
);
COMMENT ON TABLE app.users IS 'A person (the seeds'' profiles). Global; organizations are reached through app.memberships.';
COMMENT ON COLUMN app.users.week_reset_date IS 'Next weekly reset: always a Monday 00:00 UTC (seed 004 #2).';

-- Weekly reset job (issue 5) finds due users by this.
CREATE INDEX IF NOT EXISTS users_week_reset_date_idx ON app.users (week_reset_date) WHERE deleted_at IS NULL;

CREATE OR REPLACE TRIGGER users_set_updated_at
  BEFORE UPDATE ON app.users
  FOR EACH ROW EXECUTE FUNCTION app_private.tg__set_updated_at();
