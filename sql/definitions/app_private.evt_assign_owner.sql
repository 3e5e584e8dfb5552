-- app_private.evt_assign_owner: the current definition of this function.
-- First created by sql/0410_ownership.sql.
-- Serves: seed 000 P1, seed 003 §3.4 (roles for access levels), seed 004 #26 (definer functions run as a
--         least-privileged owner).
-- pgkit:after 0400_security_context.sql

CREATE OR REPLACE FUNCTION app_private.evt_assign_owner()
RETURNS event_trigger
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT c.objid, c.object_type, c.object_identity
    FROM pg_catalog.pg_event_trigger_ddl_commands() c
    WHERE c.schema_name IN ('app', 'app_private', 'audit', 'ops') AND NOT c.in_extension
  LOOP
    CASE r.object_type
      WHEN 'table' THEN
        IF (SELECT relowner FROM pg_catalog.pg_class WHERE oid = r.objid) <> 'pgkit_owner'::regrole THEN
          EXECUTE format('ALTER TABLE %s OWNER TO pgkit_owner', r.object_identity);
        END IF;
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                   WHERE a.attrelid = r.objid AND a.attname IN ('organization_id', 'user_id') AND NOT a.attisdropped) THEN
          PERFORM app_private.close_tenant_table(r.objid::regclass);
          -- and the analytics and job roles' policies, as sql/0450 gave every table before it (issue 16 #10)
          PERFORM app_private.ensure_service_role_policies(r.objid::regclass);
        END IF;
      WHEN 'view' THEN EXECUTE format('ALTER VIEW %s OWNER TO pgkit_owner', r.object_identity);
      WHEN 'materialized view' THEN EXECUTE format('ALTER MATERIALIZED VIEW %s OWNER TO pgkit_owner', r.object_identity);
      WHEN 'sequence' THEN
        -- A serial/identity column's sequence is linked to its table ("cannot change owner of sequence ...
        -- linked to table"): the table's ALTER TABLE ... OWNER above/below moves it. Only free-standing ones here.
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                       WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = r.objid
                         AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i'))
           AND (SELECT relowner FROM pg_catalog.pg_class WHERE oid = r.objid) <> 'pgkit_owner'::regrole THEN
          EXECUTE format('ALTER SEQUENCE %s OWNER TO pgkit_owner', r.object_identity);
        END IF;
      WHEN 'function' THEN EXECUTE format('ALTER FUNCTION %s OWNER TO pgkit_owner', r.object_identity);
      WHEN 'procedure' THEN EXECUTE format('ALTER PROCEDURE %s OWNER TO pgkit_owner', r.object_identity);
      WHEN 'type' THEN
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_type t WHERE t.oid = r.objid AND t.typtype IN ('e', 'd', 'c', 'r')
                   AND (t.typrelid = 0 OR (SELECT relkind FROM pg_catalog.pg_class WHERE oid = t.typrelid) = 'c')) THEN
          EXECUTE format('ALTER TYPE %s OWNER TO pgkit_owner', r.object_identity);
        END IF;
      ELSE NULL;
    END CASE;
  END LOOP;
END
$$;
REVOKE ALL ON FUNCTION app_private.evt_assign_owner() FROM PUBLIC;
