-- app_private.is_valid_timezone: the current definition of this function.
-- First created by sql/0100_table_helpers.sql.
--   PL/pgSQL, not SQL: a SQL function with a SET clause is never inlined, and PostgreSQL parses, analyses and
--   plans its body again in every statement that calls it (issue 16's profile of the request context).
-- Serves: seed 004 #30, #38, #39; seed 001 (timezone-aware scheduling).
-- pgkit:after 0100_table_helpers.sql

-- IMMUTABLE in practice: the IANA names a server knows only grow between releases.
-- SECURITY DEFINER (issue 16 #12): app.users' timezone CHECK calls it with the caller's rights, and the app may
-- not read app_private; as its owner it reads the name list and returns only true or false.
CREATE OR REPLACE FUNCTION app_private.is_valid_timezone(p_tz text)
RETURNS boolean
LANGUAGE plpgsql
IMMUTABLE
PARALLEL SAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN p_tz IS NOT NULL
       AND EXISTS (SELECT 1 FROM app_private.timezone_names t WHERE t.name OPERATOR(pg_catalog.=) p_tz);
END
$$;
GRANT EXECUTE ON FUNCTION app_private.is_valid_timezone(text) TO pgkit_app, pgkit_maintenance;
