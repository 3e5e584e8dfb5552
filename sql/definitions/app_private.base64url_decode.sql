-- app_private.base64url_decode: the bytes of an unpadded base64url string (RFC 4648 §5), as JWTs use.
-- Serves: seed 000 P1 (tenant isolation: the authenticated context reads tokens with it).
-- pgkit:after 0930_authenticated_context.sql

CREATE OR REPLACE FUNCTION app_private.base64url_decode(p_text text)
RETURNS bytea
LANGUAGE sql
IMMUTABLE
STRICT
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT pg_catalog.decode(
    pg_catalog.translate(p_text, '-_', '+/')
      OPERATOR(pg_catalog.||) pg_catalog.repeat('=', (4 OPERATOR(pg_catalog.-) (pg_catalog.length(p_text) OPERATOR(pg_catalog.%) 4)) OPERATOR(pg_catalog.%) 4),
    'base64')
$$;
COMMENT ON FUNCTION app_private.base64url_decode(text) IS
  'Bytes of an unpadded base64url string (RFC 4648 section 5); raises on characters outside the alphabet.';
REVOKE ALL ON FUNCTION app_private.base64url_decode(text) FROM PUBLIC;
