-- app_private.tg_audit_logs__append_only: the current definition of this function and the triggers that call it.
-- First created by sql/0440_audit.sql.
-- Serves: seed 000 P1 (audit logging), seed 001 AuditLog, seed 003 §2.1 ("content creation with audit"
--         atomic), §5.3, seed 004 #24.
-- pgkit:after 0440_audit.sql

-- Append-only trail.
CREATE OR REPLACE FUNCTION app_private.tg_audit_logs__append_only()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF CURRENT_USER = 'pgkit_owner' OR (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = CURRENT_USER) THEN
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
  END IF;
  RAISE EXCEPTION 'audit.audit_logs is append-only (% refused for %)', TG_OP, CURRENT_USER
    USING ERRCODE = 'insufficient_privilege';
END
$$;
REVOKE ALL ON FUNCTION app_private.tg_audit_logs__append_only() FROM PUBLIC;

CREATE OR REPLACE TRIGGER audit_logs_append_only
  BEFORE UPDATE OR DELETE ON audit.audit_logs
  FOR EACH ROW EXECUTE FUNCTION app_private.tg_audit_logs__append_only();
CREATE OR REPLACE TRIGGER audit_logs_append_only_truncate
  BEFORE TRUNCATE ON audit.audit_logs
  FOR EACH STATEMENT EXECUTE FUNCTION app_private.tg_audit_logs__append_only();
