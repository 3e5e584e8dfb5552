-- app.transaction_stamp: the current definition of this function.
-- First created by sql/0800_request_context_bound_to_transaction.sql.
-- Serves: seed 001 (SET LOCAL org context with connection pooling), seed 000 P1 / "validate RLS policies can't
--         be bypassed", seed 003 §4.1 (pooling), seed 004 #18 (cheap RLS).
-- pgkit:after 0400_security_context.sql

-- The current transaction's identity for the stamps here and in sql/0840: its start in microseconds.
CREATE OR REPLACE FUNCTION app.transaction_stamp()
RETURNS text
LANGUAGE sql
STABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT (extract(epoch FROM pg_catalog.transaction_timestamp()) OPERATOR(pg_catalog.*) 1000000)::pg_catalog.int8::pg_catalog.text
$$;
COMMENT ON FUNCTION app.transaction_stamp() IS
  'The current transaction''s start in microseconds since the epoch, as text: the time part of the stamps of sql/0800 and sql/0840.';
GRANT EXECUTE ON FUNCTION app.transaction_stamp() TO pgkit_app, pgkit_readonly, pgkit_maintenance, pgkit_anon;
