-- app.authenticate_context: the one way to set a request context (sql/0930 says why).
--   SELECT app.authenticate_context($1) with the token as a bind parameter, first thing in the transaction.
--   The token is a compact HS256 JWT whose header names a live key (kid) of app_private.context_signing_keys:
--   - purpose user (the service's user JWT): sub = user uuid, org = organization uuid; accepted from the app
--     login only;
--   - purpose worker: role = "worker", scope "org" with org = organization uuid, or scope "queue" (the queue
--     functions only); accepted from the worker login only.
--   exp is required and in the future, iat is required and not in the future (60 s of clock skew), nbf when
--   present has passed, and exp - iat is at most 8 days. The settings it writes are transaction-local and
--   carry app.ctx_mac = app_private.context_mac(...): a client can neither forge nor keep them.
--   A rejected token raises invalid_authorization_specification (28000) with the reason and leaves no context.
--   Superuser sessions (platform scripts; the pooler refuses them) may present either kind.
-- Serves: seed 000 P1 (tenant isolation; "validate RLS policies can't be bypassed"), seed 001 (request context
--         with connection pooling), seed 003 §3.4 (access levels), seed 004 #18 (cheap RLS).
-- pgkit:after 0930_authenticated_context.sql
-- pgkit:requires app_private.base64url_decode
-- pgkit:requires app_private.context_mac
-- pgkit:requires app_private.can_set_role

CREATE OR REPLACE FUNCTION app.authenticate_context(p_token text)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  c_uuid     constant text := '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
  c_skew     constant numeric := 60;
  c_lifetime constant numeric := 8 * 86400;
  v_parts    text[];
  v_header   jsonb;
  v_claims   jsonb;
  v_sig      bytea;
  v_key      app_private.context_signing_keys%ROWTYPE;
  v_now      numeric := extract(epoch FROM pg_catalog.transaction_timestamp());
  v_super    boolean;
  v_worker   boolean;
  v_org      text := '';
  v_user     text := '';
  v_role     text;
  v_scope    text := '';
  v_reason   text;
  v_signed   boolean := false;
  v_signed_part bytea;  -- what the signature covers: header.payload
BEGIN
  -- No context survives a rejected token, even one set earlier in this transaction.
  PERFORM pg_catalog.set_config('app.ctx_mac', '', true), pg_catalog.set_config('app.org_id', '', true),
          pg_catalog.set_config('app.user_id', '', true), pg_catalog.set_config('app.ctx_role', '', true),
          pg_catalog.set_config('app.ctx_scope', '', true);

  IF p_token IS NULL OR pg_catalog.length(p_token) > 4096
     OR p_token !~ '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' THEN
    v_reason := 'not a compact JWT (header.payload.signature, base64url, at most 4096 characters)';
  ELSE
    v_parts := pg_catalog.string_to_array(p_token, '.');
    v_signed_part := pg_catalog.convert_to(v_parts[1] || '.' || v_parts[2], 'UTF8');
    -- Fast path, taken by every good token: the signature is checked first, against each live key (at most two
    -- per purpose, sql/0930), so a signed token is parsed without an EXCEPTION block. That block is a
    -- subtransaction and cost half of this function's time (PostgreSQL 15: 160 us a call with it, 80 without;
    -- docs/security.md "Request context"). A signature of 43 base64url characters always decodes (32 bytes).
    IF pg_catalog.length(v_parts[3]) = 43 THEN
      v_sig := app_private.base64url_decode(v_parts[3]);
      SELECT * INTO v_key FROM app_private.context_signing_keys k
      WHERE k.retired_at IS NULL
        AND extensions.hmac(v_signed_part, k.secret, 'sha256') = v_sig
      LIMIT 1;
      v_signed := FOUND;
    END IF;
    IF v_signed THEN
      -- A live key signed it, so its JSON is what a trusted signer wrote. A malformed one (a signer's bug) raises
      -- the parser's own error here (22P02), not 28000, and sets no context.
      v_header := pg_catalog.convert_from(app_private.base64url_decode(v_parts[1]), 'UTF8')::jsonb;
      v_claims := pg_catalog.convert_from(app_private.base64url_decode(v_parts[2]), 'UTF8')::jsonb;
    ELSE
      -- Slow path, for rejected tokens only: find the precise reason.
      BEGIN
        v_header := pg_catalog.convert_from(app_private.base64url_decode(v_parts[1]), 'UTF8')::jsonb;
        v_claims := pg_catalog.convert_from(app_private.base64url_decode(v_parts[2]), 'UTF8')::jsonb;
        v_sig := app_private.base64url_decode(v_parts[3]);
      EXCEPTION WHEN OTHERS THEN
        v_reason := 'header, payload or signature is not base64url (JSON for the first two)';
      END;
    END IF;
  END IF;

  IF v_reason IS NULL AND (pg_catalog.jsonb_typeof(v_header) IS DISTINCT FROM 'object' OR pg_catalog.jsonb_typeof(v_claims) IS DISTINCT FROM 'object') THEN
    v_reason := 'header and payload must be JSON objects';
  END IF;
  IF v_reason IS NULL AND v_header ->> 'alg' IS DISTINCT FROM 'HS256' THEN
    v_reason := 'alg must be HS256';
  END IF;
  IF v_signed AND v_header ->> 'kid' IS DISTINCT FROM v_key.kid THEN
    -- Signed by a live key other than the one its header names: judged by the header's kid, as below.
    v_signed := false;
  END IF;
  IF v_reason IS NULL AND NOT v_signed THEN
    SELECT * INTO v_key FROM app_private.context_signing_keys k
    WHERE k.kid = v_header ->> 'kid' AND k.retired_at IS NULL;
    IF NOT FOUND THEN
      v_reason := 'unknown or retired key id (kid)';
    ELSIF extensions.hmac(v_signed_part, v_key.secret, 'sha256') IS DISTINCT FROM v_sig THEN
      v_reason := 'bad signature';
    END IF;
  END IF;
  IF v_reason IS NULL THEN
    IF pg_catalog.jsonb_typeof(v_claims -> 'exp') IS DISTINCT FROM 'number' THEN
      v_reason := 'exp is required';
    ELSIF (v_claims ->> 'exp')::numeric <= v_now THEN
      v_reason := 'token expired';
    ELSIF pg_catalog.jsonb_typeof(v_claims -> 'iat') IS DISTINCT FROM 'number' THEN
      v_reason := 'iat is required';
    ELSIF (v_claims ->> 'iat')::numeric > v_now + c_skew THEN
      v_reason := 'iat is in the future';
    ELSIF (v_claims ->> 'exp')::numeric - (v_claims ->> 'iat')::numeric > c_lifetime THEN
      v_reason := 'lifetime (exp - iat) longer than 8 days';
    ELSIF v_claims ? 'nbf' AND (pg_catalog.jsonb_typeof(v_claims -> 'nbf') IS DISTINCT FROM 'number'
                                OR (v_claims ->> 'nbf')::numeric > v_now + c_skew) THEN
      v_reason := 'not valid yet (nbf)';
    END IF;
  END IF;

  IF v_reason IS NULL THEN
    -- The worker login is the one that may SET ROLE pgkit_worker (app_private.can_set_role: from 16 on, the
    -- admin that created the group holds an ADMIN-only membership, which is not that). Superuser status is
    -- looked up only for such a session or a worker token: pg_roles costs about a fifth of the fast path.
    v_worker := app_private.can_set_role(SESSION_USER, 'pgkit_worker');
    IF v_worker OR v_key.purpose = 'worker' THEN
      SELECT r.rolsuper INTO v_super FROM pg_catalog.pg_roles r WHERE r.rolname = SESSION_USER;
      v_worker := v_worker AND NOT v_super;
    END IF;
    v_role := coalesce(v_claims ->> 'role', 'user');
    IF v_key.purpose = 'user' THEN
      IF v_role <> 'user' THEN
        v_reason := 'a user key signs user tokens only';
      ELSIF v_worker THEN
        v_reason := 'the worker login takes worker tokens only';
      ELSIF coalesce(v_claims ->> 'sub', '') !~ c_uuid OR coalesce(v_claims ->> 'org', '') !~ c_uuid THEN
        v_reason := 'sub and org must be lower-case uuids';
      ELSE
        v_user := v_claims ->> 'sub';
        v_org := v_claims ->> 'org';
      END IF;
    ELSE
      IF v_role <> 'worker' THEN
        v_reason := 'a worker key signs worker tokens only (role "worker")';
      ELSIF NOT (v_worker OR v_super) THEN
        v_reason := 'worker tokens are for the worker login';
      ELSIF v_claims ->> 'scope' = 'queue' THEN
        v_scope := 'queue';
      ELSIF v_claims ->> 'scope' = 'org' AND coalesce(v_claims ->> 'org', '') ~ c_uuid THEN
        v_scope := 'org';
        v_org := v_claims ->> 'org';
      ELSE
        v_reason := 'a worker token needs scope "queue", or scope "org" with org = an organization uuid';
      END IF;
    END IF;
  END IF;

  IF v_reason IS NOT NULL THEN
    RAISE EXCEPTION 'request context token rejected: %', v_reason
      USING ERRCODE = 'invalid_authorization_specification',
            HINT = 'Send the caller''s signed token: SELECT app.authenticate_context($1) (docs/security.md, "Request context").';
  END IF;

  PERFORM pg_catalog.set_config('app.org_id', v_org, true), pg_catalog.set_config('app.user_id', v_user, true),
          pg_catalog.set_config('app.ctx_role', v_role, true), pg_catalog.set_config('app.ctx_scope', v_scope, true),
          pg_catalog.set_config('app.ctx_mac', app_private.context_mac(v_org, v_user, v_role, v_scope), true);
END
$$;
COMMENT ON FUNCTION app.authenticate_context(text) IS
  'Verifies a signed request-context token (HS256 JWT: kid, exp, iat, sub/org for users, role/scope for workers) and sets the transaction''s context with a MAC no client can compute. Raises 28000 with the reason on a rejected token.';
REVOKE ALL ON FUNCTION app.authenticate_context(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.authenticate_context(text) TO pgkit_app, pgkit_readonly, pgkit_maintenance;
