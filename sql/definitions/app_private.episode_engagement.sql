-- app_private.episode_engagement: engagement per episode (issue 17 #6, seed 003 Long-Term #13), a materialized
-- view over app.engagement_events: readers, opens, completions, average furthest scroll depth per reader, time
-- spent on blocks, last event. Refreshed CONCURRENTLY by ops.job_refresh_analytics (every 15 minutes), which the
-- unique index on episode_id allows (readers are never blocked by a refresh).
-- PRIVATE: a materialized view has no row-level security, so it holds every tenant's rows; nothing is granted on
-- it. The application reads app.episode_engagement(), which returns the rows of the request's organization only.
-- Built as the admin applying the bundle, under the base tables' row-level security, so it starts empty; the
-- first refresh (as its owner, pgkit_owner) fills it. Re-applied (dropped and rebuilt) only when this file changes.
-- Serves: seed 003 Long-Term #13; seed 000 P3 (engagement gradients).
-- pgkit:after 1003_analytics.sql

DROP MATERIALIZED VIEW IF EXISTS app_private.episode_engagement;
CREATE MATERIALIZED VIEW app_private.episode_engagement AS
WITH per_reader AS (
  SELECT e.organization_id, e.episode_id, e.user_id,
         bool_or(e.event_type = 'episode_opened') AS opened,
         count(*) FILTER (WHERE e.event_type = 'episode_opened') AS opens,
         bool_or(e.event_type = 'episode_completed') AS completed,
         max(CASE WHEN e.event_type = 'scroll_depth' THEN (e.event_value->>'depth')::numeric END) AS depth,
         sum(CASE WHEN e.event_type = 'time_on_block' AND jsonb_typeof(e.event_value->'duration') = 'number'
                  THEN (e.event_value->>'duration')::numeric END) AS seconds,
         max(e.created_at) AS last_event_at
  FROM app.engagement_events e
  GROUP BY e.organization_id, e.episode_id, e.user_id
)
SELECT r.organization_id, r.episode_id,
       count(*) AS readers,
       sum(r.opens)::bigint AS opens,
       count(*) FILTER (WHERE r.completed) AS completions,
       round(avg(r.depth), 1) AS avg_read_depth_percent,
       coalesce(sum(r.seconds), 0) AS time_on_blocks_seconds,
       max(r.last_event_at) AS last_event_at
FROM per_reader r
GROUP BY r.organization_id, r.episode_id
WITH DATA;
CREATE UNIQUE INDEX episode_engagement_episode_id_key ON app_private.episode_engagement (episode_id);
CREATE INDEX episode_engagement_organization_id_idx ON app_private.episode_engagement (organization_id);
COMMENT ON MATERIALIZED VIEW app_private.episode_engagement IS
  'Engagement per episode, all tenants (no RLS on a materialized view): never granted; read through app.episode_engagement(). Refreshed CONCURRENTLY by ops.job_refresh_analytics.';
REVOKE ALL ON app_private.episode_engagement FROM PUBLIC;
