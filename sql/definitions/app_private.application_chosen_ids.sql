-- app_private.application_chosen_ids(): the tables on which an application role may INSERT an `id` of its
--   choosing, as "table (role), ...", or NULL when there is none. sql/1004 took that right away (a chosen id was
--   an existence oracle across tenants: issue 16 #5); app_private.assert_security_invariants reports what this
--   finds, so a later migration that grants INSERT on a whole table again fails the runner's check.
-- Serves: seed 000 P1 (tenant isolation; "validate RLS policies can't be bypassed"), seed 004 #27.
-- pgkit:after 1004_database_chosen_ids.sql

CREATE OR REPLACE FUNCTION app_private.application_chosen_ids()
RETURNS text
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT string_agg(c.oid::regclass::text || ' (' || r.rolname || ')', ', ' ORDER BY c.oid::regclass::text, r.rolname)
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute id ON id.attrelid = c.oid AND id.attname = 'id' AND NOT id.attisdropped
  JOIN pg_roles r ON r.rolname IN ('pgkit_app', 'pgkit_worker', 'pgkit_anon', 'pgkit_readonly')
  WHERE n.nspname IN ('app', 'ops') AND c.relkind IN ('r', 'p') AND NOT c.relispartition
    AND has_column_privilege(r.oid, c.oid, id.attnum, 'INSERT')
$$;
COMMENT ON FUNCTION app_private.application_chosen_ids() IS
  'Tables (and roles) where an application role may INSERT an id of its choosing; NULL when none (sql/1004). Read by app_private.assert_security_invariants.';
REVOKE ALL ON FUNCTION app_private.application_chosen_ids() FROM PUBLIC;
