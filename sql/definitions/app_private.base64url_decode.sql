-- app_private.base64url_decode: the bytes of an unpadded base64url string (RFC 4648 §5), as JWTs use.
--   PL/pgSQL, not SQL: a SQL function with a SET clause is never inlined, and PostgreSQL parses, analyses and
--   plans its body again in every statement that calls it. app.authenticate_context calls this three times per
--   transaction; as SQL that re-parsing was about 40% of its time (perf profile, PostgreSQL 15, docs/security.md
--   "Request context"). PL/pgSQL keeps its plan for the session.
-- Serves: seed 000 P1 (tenant isolation: the authenticated context reads tokens with it), seed 004 #18 (cheap RLS).
-- pgkit:after 0930_authenticated_context.sql

CREATE OR REPLACE FUNCTION app_private.base64url_decode(p_text text)
RETURNS bytea
LANGUAGE plpgsql
IMMUTABLE
STRICT
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN pg_catalog.decode(
    pg_catalog.translate(p_text, '-_', '+/')
      OPERATOR(pg_catalog.||) pg_catalog.repeat('=', (4 OPERATOR(pg_catalog.-) (pg_catalog.length(p_text) OPERATOR(pg_catalog.%) 4)) OPERATOR(pg_catalog.%) 4),
    'base64');
END
$$;
COMMENT ON FUNCTION app_private.base64url_decode(text) IS
  'Bytes of an unpadded base64url string (RFC 4648 section 5); raises on characters outside the alphabet.';
REVOKE ALL ON FUNCTION app_private.base64url_decode(text) FROM PUBLIC;
