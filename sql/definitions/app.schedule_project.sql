-- app.schedule_project: the current definition of this function.
-- First created by sql/0610_queue.sql.
-- Serves: seed 001 queue table / queue processing / exponential backoff / timezone-aware scheduling /
--         question 1 (many workers with SKIP LOCKED); seed 003 §5.2.
-- pgkit:after 0610_queue.sql

-- Queues the project's next run (idempotent: a live item for the same slot is not duplicated) and refreshes
-- projects.next_scheduled_at. The timezone is p_timezone, else the organization owner's (oldest owner
-- membership), else UTC. Returns the queue item id (existing or new), NULL for a paused or deleted project.
CREATE OR REPLACE FUNCTION app.schedule_project(p_project_id uuid, p_timezone text DEFAULT NULL, p_after timestamptz DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_project app.projects%ROWTYPE;
  v_tz      text;
  v_at      timestamptz;
  v_id      uuid;
BEGIN
  -- Called by the application (its login, not the owner or a superuser), the project must belong to the
  -- request's organization: another tenant's project answers exactly like a missing one (NULL), so neither
  -- its existence nor its state (paused, deleted) leaks, nothing is queued and its row is not even locked.
  SELECT * INTO v_project FROM app.projects p
  WHERE p.id = p_project_id
    AND (NOT (pg_catalog.pg_has_role(SESSION_USER, 'pgkit_app', 'USAGE')
              AND NOT pg_catalog.pg_has_role(SESSION_USER, 'pgkit_owner', 'USAGE'))
         OR p.organization_id = app.current_org_id())
  FOR UPDATE;
  IF NOT FOUND OR v_project.is_paused OR v_project.deleted_at IS NOT NULL THEN
    RETURN NULL;
  END IF;
  v_tz := coalesce(p_timezone, (
    SELECT u.timezone FROM app.memberships m JOIN app.users u ON u.id = m.user_id
    WHERE m.organization_id = v_project.organization_id AND m.role = 'owner'
      AND m.deleted_at IS NULL AND u.deleted_at IS NULL
    ORDER BY m.created_at, m.id LIMIT 1), 'UTC');
  v_at := app.next_run_at(v_project.cadence_config, v_tz, coalesce(p_after, pg_catalog.now()));

  INSERT INTO app.episode_schedule_queue AS q (organization_id, project_id, scheduled_for, metadata)
  VALUES (v_project.organization_id, v_project.id, v_at,
          pg_catalog.jsonb_build_object('user_timezone', v_tz,
                                        'user_local_time', pg_catalog.to_char(v_at AT TIME ZONE v_tz, 'YYYY-MM-DD"T"HH24:MI:SS'),
                                        'cadence', v_project.cadence_config))
  ON CONFLICT (project_id, scheduled_for) WHERE status IN ('pending', 'processing', 'blocked') DO NOTHING
  RETURNING q.id INTO v_id;
  IF v_id IS NULL THEN
    SELECT q.id INTO v_id FROM app.episode_schedule_queue q
    WHERE q.project_id = v_project.id AND q.scheduled_for = v_at AND q.status IN ('pending', 'processing', 'blocked');
  END IF;

  UPDATE app.projects p SET next_scheduled_at = v_at
  WHERE p.id = v_project.id AND p.next_scheduled_at IS DISTINCT FROM v_at;
  RETURN v_id;
END
$$;
REVOKE ALL ON FUNCTION app.schedule_project(uuid, text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.schedule_project(uuid, text, timestamptz) TO pgkit_app, pgkit_maintenance;
