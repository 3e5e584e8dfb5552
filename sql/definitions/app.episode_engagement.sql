-- app.episode_engagement(): the request organization's rows of the materialized view
-- app_private.episode_engagement (issue 17 #6), as of its last refresh (refreshed_at). The materialized view
-- has no row-level security, so this SECURITY DEFINER function is the only way the app reads it, and it filters
-- on app.current_org_id(): no context, or an organization the user is not a member of, returns nothing.
-- A SQL function with a string body: dropping and rebuilding the materialized view (its definition file
-- changed) does not drop this function.
-- Serves: seed 003 Long-Term #13; seed 000 P3.
-- pgkit:after 1003_analytics.sql
-- pgkit:requires app_private.episode_engagement
-- pgkit:requires app.current_org_id

CREATE OR REPLACE FUNCTION app.episode_engagement()
RETURNS TABLE (episode_id uuid, readers bigint, opens bigint, completions bigint, avg_read_depth_percent numeric,
               time_on_blocks_seconds numeric, last_event_at timestamptz, refreshed_at timestamptz)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT m.episode_id, m.readers, m.opens, m.completions, m.avg_read_depth_percent, m.time_on_blocks_seconds,
         m.last_event_at,
         (SELECT max(l.created_at) FROM ops.logs l
          WHERE l.event_type = 'job_completed' AND l.metadata->>'job' = 'refresh_analytics') AS refreshed_at
  FROM app_private.episode_engagement m
  WHERE m.organization_id = (SELECT app.current_org_id())
$$;
COMMENT ON FUNCTION app.episode_engagement() IS
  'Engagement per episode of the request organization, from the materialized view app_private.episode_engagement (issue 17 #6).';
REVOKE ALL ON FUNCTION app.episode_engagement() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.episode_engagement() TO pgkit_app, pgkit_readonly;
