-- app_private.register_context_signing_key: adds a key that signs request-context tokens (sql/0930).
--   Idempotent for the same kid, purpose and secret; a kid names one secret forever (a retired kid is not
--   reused). At most two live keys per purpose: to rotate, register the new key, move the signers to it, then
--   retire the old one (app_private.retire_context_signing_key). The secret travels as a bind parameter.
-- Serves: seed 000 P1 (tenant isolation), seed 004 #6 (key management).
-- pgkit:after 0930_authenticated_context.sql

CREATE OR REPLACE FUNCTION app_private.register_context_signing_key(p_kid text, p_purpose text, p_secret bytea)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_old app_private.context_signing_keys%ROWTYPE;
BEGIN
  -- One registration at a time, so the two-live-keys rule holds under concurrency.
  LOCK TABLE app_private.context_signing_keys IN SHARE ROW EXCLUSIVE MODE;
  SELECT * INTO v_old FROM app_private.context_signing_keys WHERE kid = p_kid;
  IF FOUND THEN
    IF v_old.purpose = p_purpose AND v_old.secret = p_secret AND v_old.retired_at IS NULL THEN
      RETURN;
    END IF;
    RAISE EXCEPTION 'context signing key % is already registered (%)', p_kid,
      CASE WHEN v_old.retired_at IS NOT NULL THEN 'retired: a kid is never reused, choose a new one'
           ELSE 'with another secret or purpose: choose a new kid' END
      USING ERRCODE = 'unique_violation';
  END IF;
  IF (SELECT count(*) FROM app_private.context_signing_keys k WHERE k.purpose = p_purpose AND k.retired_at IS NULL) >= 2 THEN
    RAISE EXCEPTION 'two % keys are live already: retire one with app_private.retire_context_signing_key(kid) first', p_purpose
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  INSERT INTO app_private.context_signing_keys (kid, purpose, secret) VALUES (p_kid, p_purpose, p_secret);
END
$$;
COMMENT ON FUNCTION app_private.register_context_signing_key(text, text, bytea) IS
  'Registers a request-context signing key (purpose user or worker, secret >= 32 bytes); idempotent; at most two live per purpose.';
REVOKE ALL ON FUNCTION app_private.register_context_signing_key(text, text, bytea) FROM PUBLIC;
