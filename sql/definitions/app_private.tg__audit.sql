-- app_private.tg__audit: the current definition of this function.
-- First created by sql/0440_audit.sql.
-- Serves: seed 000 P1 (audit logging), seed 001 AuditLog, seed 003 §2.1 ("content creation with audit"
--         atomic), §5.3, seed 004 #24.
-- pgkit:after 0430_field_encryption.sql

CREATE OR REPLACE FUNCTION app_private.tg__audit()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_hidden text[] := ARRAY['content', 'content_enc', 'note', 'note_enc'];
  v_ignore text[] := coalesce(TG_ARGV, ARRAY[]::text[]);
  v_old    jsonb;
  v_new    jsonb;
  v_row    jsonb;
  v_org    uuid;
  v_user   uuid := app.current_user_id();
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    v_old := pg_catalog.to_jsonb(OLD) - v_hidden;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    v_new := pg_catalog.to_jsonb(NEW) - v_hidden;
  END IF;
  IF TG_OP = 'UPDATE' AND (v_old - v_ignore) = (v_new - v_ignore) THEN
    RETURN NULL;
  END IF;
  v_row := coalesce(v_new, v_old);
  v_org := CASE
             WHEN v_row ? 'organization_id' THEN (v_row ->> 'organization_id')::uuid
             WHEN TG_TABLE_SCHEMA = 'app' AND TG_TABLE_NAME = 'organizations' THEN (v_row ->> 'id')::uuid
           END;
  INSERT INTO audit.audit_logs (organization_id, user_id, actor_kind, action, table_name, record_id,
                                old_data, new_data, metadata)
  VALUES (v_org, v_user,
          CASE WHEN v_user IS NULL THEN 'service' ELSE 'user' END::audit.actor_kind,
          pg_catalog.lower(TG_OP), TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, v_row ->> 'id',
          v_old, v_new,
          pg_catalog.jsonb_build_object('db_user', SESSION_USER::text, 'context_org_id', app.current_org_id()));
  RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION app_private.tg__audit() FROM PUBLIC;
