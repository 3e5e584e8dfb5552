-- 0420: denormalized tenant keys stay true. Policies compare a row's own organization_id (and user_id)
-- with the request context, never through a per-row subquery (seed 004 #18). That is only safe if those
-- columns agree with the parent row, so a BEFORE trigger on every child table:
--   * fills organization_id (and user_id where the parent carries the owner, e.g. chat_messages from
--     chat_sessions) when the writer left it NULL;
--   * rejects a row whose organization_id / user_id differs from its parent's.
-- The error is the same (23503, "<fk column> not found in this organization") whether the parent does not
-- exist or belongs to another organization, so the trigger is no oracle for other tenants' ids.
-- SECURITY DEFINER (owner sees every parent, so the check is exact) with a pinned search_path; the table
-- and column names come from the trigger arguments written here, never from data.
-- Serves: seed 004 #18 (denormalized user_id kept by trigger), seed 000 P1, seed 003 §5.1.

CREATE OR REPLACE FUNCTION app_private.tg__tenant_parent()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_fk      text := TG_ARGV[0];              -- foreign key column of this table
  v_parent  text := TG_ARGV[1];              -- parent table (schema-qualified)
  v_user    boolean := coalesce(TG_ARGV[2], 'false')::boolean;  -- parent's user_id must match too
  v_row     jsonb := pg_catalog.to_jsonb(NEW);
  v_id      uuid := (v_row ->> v_fk)::uuid;
  v_org     uuid;
  v_uid     uuid;
  v_patch   jsonb := '{}';
  v_table   text;
BEGIN
  IF v_id IS NULL THEN
    RETURN NEW;
  END IF;
  IF v_user THEN
    EXECUTE format('SELECT organization_id, user_id FROM %s WHERE id = $1', v_parent) INTO v_org, v_uid USING v_id;
  ELSE
    EXECUTE format('SELECT organization_id FROM %s WHERE id = $1', v_parent) INTO v_org USING v_id;
  END IF;

  IF v_org IS NULL
     OR (v_row ->> 'organization_id' IS NOT NULL AND (v_row ->> 'organization_id')::uuid <> v_org)
     OR (v_user AND v_row ->> 'user_id' IS NOT NULL AND (v_row ->> 'user_id')::uuid IS DISTINCT FROM v_uid) THEN
    -- On a partition (token_usage, engagement_events) the trigger is the parent's clone: name the error after
    -- the partitioned table, so the constraint name is the same every month.
    v_table := (SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = coalesce(pg_catalog.pg_partition_root(TG_RELID), TG_RELID));
    RAISE EXCEPTION '%.% not found in this organization', v_table, v_fk
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = v_table || '_' || v_fk || '_tenant_fkey',
            SCHEMA = TG_TABLE_SCHEMA, TABLE = v_table;
  END IF;

  IF v_row ->> 'organization_id' IS NULL THEN
    v_patch := v_patch || pg_catalog.jsonb_build_object('organization_id', v_org);
  END IF;
  IF v_user AND v_row ->> 'user_id' IS NULL THEN
    v_patch := v_patch || pg_catalog.jsonb_build_object('user_id', v_uid);
  END IF;
  IF v_patch <> '{}' THEN
    NEW := pg_catalog.jsonb_populate_record(NEW, v_patch);
  END IF;
  RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION app_private.tg__tenant_parent() FROM PUBLIC;
COMMENT ON FUNCTION app_private.tg__tenant_parent() IS
  'BEFORE INSERT/UPDATE: organization_id (and user_id) of the row equal those of the parent named by TG_ARGV; fills them when NULL.';

-- tenant_<fk> triggers: name, table, fk column, parent, parent carries the owning user.
DO $$
DECLARE
  t record;
BEGIN
  FOR t IN
    SELECT * FROM (VALUES
      ('app.episodes',               'project_id',              'app.projects',      false),
      ('app.blocks',                 'episode_id',              'app.episodes',      false),
      ('app.highlights',             'episode_id',              'app.episodes',      false),
      ('app.highlights',             'block_id',                'app.blocks',        false),
      ('app.planning_notes',         'project_id',              'app.projects',      false),
      ('app.planning_notes',         'incorporated_episode_id', 'app.episodes',      false),
      ('app.agent_memory',           'project_id',              'app.projects',      false),
      ('app.chat_sessions',          'project_id',              'app.projects',      false),
      ('app.chat_sessions',          'episode_id',              'app.episodes',      false),
      ('app.chat_messages',          'session_id',              'app.chat_sessions', true),
      ('app.episode_schedule_queue', 'project_id',              'app.projects',      false),
      ('app.episode_schedule_queue', 'episode_id',              'app.episodes',      false),
      ('app.token_usage',            'project_id',              'app.projects',      false),
      ('app.token_usage',            'episode_id',              'app.episodes',      false),
      ('app.token_usage',            'chat_session_id',         'app.chat_sessions', false),
      ('app.derived_insights',       'project_id',              'app.projects',      false),
      ('app.derived_insights',       'session_id',              'app.chat_sessions', false),
      ('app.derived_insights',       'applied_to_episode_id',   'app.episodes',      false),
      ('app.engagement_events',      'episode_id',              'app.episodes',      false),
      ('app.engagement_events',      'block_id',                'app.blocks',        false)
    ) AS v(tbl, fk, parent, with_user)
  LOOP
    EXECUTE format(
      'CREATE OR REPLACE TRIGGER %I BEFORE INSERT OR UPDATE OF %I, organization_id%s ON %s '
      'FOR EACH ROW EXECUTE FUNCTION app_private.tg__tenant_parent(%L, %L, %L)',
      'tenant_' || t.fk, t.fk, CASE WHEN t.with_user THEN ', user_id' ELSE '' END, t.tbl, t.fk, t.parent, t.with_user);
  END LOOP;
END
$$;
