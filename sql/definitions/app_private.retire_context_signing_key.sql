-- app_private.retire_context_signing_key: stops accepting tokens signed with a key (the end of a rotation,
--   or a leaked key). Tokens it signed are refused from the next transaction on. Idempotent.
-- Serves: seed 000 P1 (tenant isolation), seed 004 #6 (key management).
-- pgkit:after 0930_authenticated_context.sql

CREATE OR REPLACE FUNCTION app_private.retire_context_signing_key(p_kid text)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  UPDATE app_private.context_signing_keys SET retired_at = pg_catalog.now()
  WHERE kid = p_kid AND retired_at IS NULL;
  IF FOUND THEN
    RETURN true;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM app_private.context_signing_keys WHERE kid = p_kid) THEN
    RAISE EXCEPTION 'no context signing key %', p_kid USING ERRCODE = 'undefined_object';
  END IF;
  RETURN false;
END
$$;
COMMENT ON FUNCTION app_private.retire_context_signing_key(text) IS
  'Retires a request-context signing key: its tokens are refused from then on. Returns false when it was retired already.';
REVOKE ALL ON FUNCTION app_private.retire_context_signing_key(text) FROM PUBLIC;
