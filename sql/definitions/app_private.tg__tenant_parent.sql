-- app_private.tg__tenant_parent: the current definition of this function.
-- First created by sql/0420_tenant_consistency.sql.
-- Serves: seed 004 #18 (denormalized user_id kept by trigger), seed 000 P1, seed 003 §5.1.
-- pgkit:after 0410_ownership.sql

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
    PERFORM app_private.raise_tenant_fkey(TG_RELID, v_fk);
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
COMMENT ON FUNCTION app_private.tg__tenant_parent() IS
  'BEFORE INSERT/UPDATE: organization_id (and user_id) of the row equal those of the parent named by TG_ARGV; fills them when NULL.';
REVOKE ALL ON FUNCTION app_private.tg__tenant_parent() FROM PUBLIC;
