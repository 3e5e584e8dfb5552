-- 1003: analytics (issue 17 #6, seed 003 Long-Term #13, seed 000 P3). Engagement per episode is a materialized
-- view in app_private (sql/definitions/app_private.episode_engagement.sql: a materialized view has no row-level
-- security, so the app never reads it; it reads app.episode_engagement(), which returns its own organization's
-- rows), refreshed CONCURRENTLY (unique index on episode_id) every 15 minutes by ops.job_refresh_analytics.
-- The per-user engagement metrics of seed 000 P3 are a plain view, app.user_engagement (security_invoker: the
-- caller's own row-level security applies). Token cost per organization per day is NOT a materialized view:
-- app.token_usage_daily (sql/0161, kept exact by a trigger, sql/0620) already is that aggregate, current to the
-- last write and one primary-key probe per (organization, day); a materialized view would be a staler copy of it.
-- This file adds the job's lock row, TEMP for the owner (the refresh needs it), and registers the job (sql/0790).
-- Serves: seed 003 Long-Term #13 (materialized views for analytics), seed 000 P3 (engagement metrics).

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

INSERT INTO ops.job_locks (job) VALUES ('refresh_analytics') ON CONFLICT DO NOTHING;

-- REFRESH ... CONCURRENTLY builds the new contents in a temporary table, as the view's owner; PUBLIC has no TEMP
-- on this database (hardening), so the owner gets it. pgkit_owner is NOLOGIN; the app is not a member of it.
DO $$
BEGIN
  EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO pgkit_owner', current_database());
END
$$;

SELECT ops.schedule_jobs();
