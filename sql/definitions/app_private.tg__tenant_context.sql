-- app_private.tg__tenant_context: the current definition of this function.
-- First created by sql/0420_tenant_consistency.sql.
-- Serves: seed 004 #18 (denormalized user_id kept by trigger), seed 000 P1, seed 003 §5.1.
-- pgkit:after 0410_ownership.sql

-- The first layer: for writes under the app policies only (the triggers' WHEN clause), the parent must be in
-- the request context. Static lookups for the known parents (cached plans: this runs on every message insert),
-- dynamic SQL for any other. No fill, no comparison with the row: the second layer does both.
CREATE OR REPLACE FUNCTION app_private.tg__tenant_context()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_fk     text := TG_ARGV[0];              -- foreign key column of this table
  v_parent text := TG_ARGV[1];              -- parent table (schema-qualified)
  v_user   boolean := coalesce(TG_ARGV[2], 'false')::boolean;  -- the parent's user must be the context's
  v_id     uuid := (pg_catalog.to_jsonb(NEW) ->> v_fk)::uuid;
  v_org    uuid;
  v_uid    uuid;
BEGIN
  IF v_id IS NULL THEN
    RETURN NEW;
  END IF;
  CASE v_parent
    WHEN 'app.projects' THEN
      SELECT p.organization_id INTO v_org FROM app.projects p WHERE p.id = v_id;
    WHEN 'app.episodes' THEN
      SELECT e.organization_id INTO v_org FROM app.episodes e WHERE e.id = v_id;
    WHEN 'app.blocks' THEN
      SELECT b.organization_id INTO v_org FROM app.blocks b WHERE b.id = v_id;
    WHEN 'app.chat_sessions' THEN
      SELECT s.organization_id, s.user_id INTO v_org, v_uid FROM app.chat_sessions s WHERE s.id = v_id;
    ELSE
      IF v_user THEN
        EXECUTE format('SELECT organization_id, user_id FROM %s WHERE id = $1', v_parent) INTO v_org, v_uid USING v_id;
      ELSE
        EXECUTE format('SELECT organization_id FROM %s WHERE id = $1', v_parent) INTO v_org USING v_id;
      END IF;
  END CASE;
  IF v_org IS NULL
     OR v_org IS DISTINCT FROM app.current_org_id()
     OR (v_user AND v_uid IS DISTINCT FROM app.current_user_id()) THEN
    PERFORM app_private.raise_tenant_fkey(TG_RELID, v_fk);
  END IF;
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION app_private.tg__tenant_context() IS
  'BEFORE INSERT/UPDATE, writes under the app policies only: the parent named by TG_ARGV is in the request context''s organization (and is the context user''s where the parent carries the owner).';
REVOKE ALL ON FUNCTION app_private.tg__tenant_context() FROM PUBLIC;
