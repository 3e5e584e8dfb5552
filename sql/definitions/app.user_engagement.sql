-- app.user_engagement: the engagement metrics seed 000 P3 asked UserJourney to store (total highlights, total
-- chat messages, average read depth, highlights per episode), derived instead of stored, per organization and user
-- (issue 17 #6). security_invoker: the caller's row-level security on the base tables applies, so the app sees
-- only what it may see of highlights, messages and events (its own organization; user-scoped rows its own).
-- Read depth is each episode's furthest scroll_depth event, averaged over the episodes read.
-- Serves: seed 000 P3 (engagement gradients), seed 001 (events instead of UserJourney flags).
-- pgkit:after 1003_analytics.sql

CREATE OR REPLACE VIEW app.user_engagement
WITH (security_invoker = true, security_barrier = true) AS
WITH depth AS (
  SELECT e.organization_id, e.user_id, e.episode_id, max((e.event_value->>'depth')::numeric) AS depth
  FROM app.engagement_events e WHERE e.event_type = 'scroll_depth'
  GROUP BY e.organization_id, e.user_id, e.episode_id
), d AS (
  SELECT depth.organization_id, depth.user_id, round(avg(depth.depth))::integer AS avg_read_depth_percent, count(*)::integer AS episodes_read
  FROM depth GROUP BY depth.organization_id, depth.user_id
), hl AS (
  SELECT h.organization_id, h.user_id, count(*)::integer AS n FROM app.highlights h WHERE h.deleted_at IS NULL
  GROUP BY h.organization_id, h.user_id
), msg AS (
  SELECT m.organization_id, m.user_id, count(*)::integer AS n FROM app.chat_messages m WHERE m.role = 'user' AND m.deleted_at IS NULL
  GROUP BY m.organization_id, m.user_id
), k AS (
  SELECT d.organization_id, d.user_id FROM d UNION SELECT hl.organization_id, hl.user_id FROM hl
  UNION SELECT msg.organization_id, msg.user_id FROM msg
)
SELECT k.organization_id, k.user_id,
       coalesce(hl.n, 0) AS total_highlights,
       coalesce(msg.n, 0) AS total_chat_messages,
       coalesce(d.avg_read_depth_percent, 0) AS avg_read_depth_percent,
       coalesce(d.episodes_read, 0) AS episodes_read,
       CASE WHEN d.episodes_read > 0 THEN round(coalesce(hl.n, 0)::numeric / d.episodes_read, 2) END AS avg_highlights_per_episode
FROM k
LEFT JOIN d ON d.organization_id = k.organization_id AND d.user_id = k.user_id
LEFT JOIN hl ON hl.organization_id = k.organization_id AND hl.user_id = k.user_id
LEFT JOIN msg ON msg.organization_id = k.organization_id AND msg.user_id = k.user_id;
COMMENT ON VIEW app.user_engagement IS
  'Seed 000 P3 engagement metrics per organization and user, derived (security_invoker: the caller''s RLS applies); issue 17 #6.';
GRANT SELECT ON app.user_engagement TO pgkit_app;
