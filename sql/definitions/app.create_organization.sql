-- app.create_organization: the current definition of this function.
-- First created by sql/0460_app_functions.sql; rate-limited, with a taken slug answered by NULL, by
-- sql/1007_organization_creation_rate_limit.sql (its header says why).
-- Serves: seed 000 P1 (soft deletes), seed 004 #24, #25, #26, #27, #35, #43 (rate limits).
-- pgkit:after 1007_organization_creation_rate_limit.sql

-- Creates an organization with the caller as its owner and returns its id; NULL when the slug is taken (slugs are
-- public names: the answer cannot be hidden, only rate-limited). Every call is logged as the caller's attempt, and
-- over the limit of ops.rate_limits 'organizations.create' the call is refused (P0429).
CREATE OR REPLACE FUNCTION app.create_organization(p_name text, p_slug text)
RETURNS uuid
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_user  uuid := app.current_user_id();
  v_id    uuid;
  v_limit record;
  v_n     integer;
  v_con   text;
BEGIN
  PERFORM app_private.refuse_worker_session('create_organization');
  IF v_user IS NULL OR NOT EXISTS (SELECT 1 FROM app.users u WHERE u.id = v_user AND u.deleted_at IS NULL) THEN
    RAISE EXCEPTION 'create_organization needs a signed-in user in the request context' USING ERRCODE = 'insufficient_privilege';
  END IF;
  SELECT r.max_events, r.per_interval INTO v_limit FROM ops.rate_limits r
  WHERE r.name = 'organizations.create' AND r.organization_id IS NULL AND r.enabled;
  IF FOUND THEN
    -- One user's attempts at a time, so concurrent calls cannot all pass the count. A row lock on the caller's
    -- own user, not an advisory lock: another session could hold an advisory key (sql/0890), not this row.
    PERFORM 1 FROM app.users u WHERE u.id = v_user FOR NO KEY UPDATE;
    SELECT count(*) INTO v_n FROM ops.logs l
    WHERE l.user_id = v_user AND l.event_type = 'organization_create_attempt'
      AND l.created_at > pg_catalog.now() OPERATOR(pg_catalog.-) v_limit.per_interval;
    IF v_n >= v_limit.max_events THEN
      RAISE EXCEPTION 'create_organization: at most % attempts per %; try again later', v_limit.max_events, v_limit.per_interval
        USING ERRCODE = 'P0429';
    END IF;
  END IF;
  INSERT INTO ops.logs (level, event_type, message, user_id, metadata)
  VALUES ('info', 'organization_create_attempt', 'create_organization', v_user, pg_catalog.jsonb_build_object('slug', p_slug));
  BEGIN
    INSERT INTO app.organizations (name, slug) VALUES (p_name, p_slug) RETURNING id INTO v_id;
  EXCEPTION WHEN unique_violation THEN
    GET STACKED DIAGNOSTICS v_con = CONSTRAINT_NAME;
    IF v_con IS DISTINCT FROM 'organizations_slug_key' THEN
      RAISE;
    END IF;
    RETURN NULL; -- the slug is taken (the attempt above is kept, and counts)
  END;
  INSERT INTO app.memberships (organization_id, user_id, role) VALUES (v_id, v_user, 'owner');
  RETURN v_id;
END
$$;
REVOKE ALL ON FUNCTION app.create_organization(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.create_organization(text, text) TO pgkit_app, pgkit_maintenance;
