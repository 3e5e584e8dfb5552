-- 0930: the database authenticates the request context (issue 16, "An authenticated context").
--   Until now the context was an unauthenticated pair of uuids: whoever could run SQL as the app login (one
--   SQL injection) could set any organization and user whose ids it learned, and app.context_stamp() let it
--   stamp them. Now:
--   - app.authenticate_context(<token>) (sql/definitions/) is the only way to set a context. The token is the
--     user's HS256 JWT that the service already receives (or a worker token), sent as a bind parameter. It is
--     verified against app_private.context_signing_keys: header kid and alg, signature, exp (required, in the
--     future), iat (required, not in the future), a bounded lifetime, sub and org for users, the key's purpose
--     matching the login (user tokens for the app login, worker tokens for the worker login).
--   - It then stamps the context with a MAC (HMAC-SHA256 under app_private.context_mac_key, which no login can
--     read) over the transaction's start and the values it set. A client cannot compute it, so setting
--     app.org_id / app.user_id / app.ctx_mac by hand, or keeping an earlier transaction's, counts as no context.
--   - app.current_org_id() / app.current_user_id() trust only that verified context (app_private.verified_context).
--   - The signing keys rotate with two keys live per purpose: register the new one, sign with it, retire the old.
--   - Queue items carry a random lease token returned by the claim; completing or failing needs it (issue 16 #1).
--   This file holds the tables and what changes once: the new lease-token signatures of app.complete_queue_item
--   and app.fail_queue_item replace the worker-name ones, and app.context_stamp (anyone could compute it) goes.
-- Serves: seed 000 P1 (tenant isolation; "validate RLS policies can't be bypassed"), seed 001 (request context
--         with connection pooling), seed 003 §3.4 (access levels), seed 004 #18 (cheap RLS).
-- pgkit:drops definitions/app.context_stamp.sql

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

CREATE TABLE IF NOT EXISTS app_private.context_signing_keys (
  kid        text PRIMARY KEY,
  purpose    text NOT NULL,
  secret     bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  retired_at timestamptz,
  CONSTRAINT context_signing_keys_kid_check CHECK (kid ~ '^[A-Za-z0-9_.-]{1,64}$'),
  CONSTRAINT context_signing_keys_purpose_check CHECK (purpose IN ('user', 'worker')),
  CONSTRAINT context_signing_keys_secret_check CHECK (octet_length(secret) >= 32),
  CONSTRAINT context_signing_keys_retired_after_created_check CHECK (retired_at IS NULL OR retired_at >= created_at)
);
COMMENT ON TABLE app_private.context_signing_keys IS
  'HS256 keys that sign request-context tokens (purpose user: the service''s user JWTs; worker: queue workers''). Live while retired_at is NULL; at most two live per purpose (rotation). Readable by no login.';
REVOKE ALL ON app_private.context_signing_keys FROM PUBLIC;

CREATE TABLE IF NOT EXISTS app_private.context_mac_key (
  singleton  boolean PRIMARY KEY DEFAULT true,
  key        bytea NOT NULL DEFAULT extensions.gen_random_bytes(32),
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT context_mac_key_singleton_check CHECK (singleton)
);
COMMENT ON TABLE app_private.context_mac_key IS
  'The server-side key of the request-context MAC (app_private.context_mac): generated here, never leaves the database.';
REVOKE ALL ON app_private.context_mac_key FROM PUBLIC;
INSERT INTO app_private.context_mac_key (singleton) VALUES (true) ON CONFLICT (singleton) DO NOTHING;

-- The lease token: a claim returns it with the item; only its holder completes or fails the item.
ALTER TABLE app.episode_schedule_queue ADD COLUMN IF NOT EXISTS lease_token uuid;
COMMENT ON COLUMN app.episode_schedule_queue.lease_token IS
  'Random token of the current lease, returned by app.claim_queue_items; app.complete_queue_item / app.fail_queue_item need it.';
-- Items leased before this file get a token (their worker completes them by name no more: the lease expires
-- and the reaper re-queues them, as for a vanished worker).
UPDATE app.episode_schedule_queue SET lease_token = extensions.gen_random_uuid()
WHERE status = 'processing' AND lease_token IS NULL;

DROP FUNCTION IF EXISTS app.complete_queue_item(uuid, text, uuid);
DROP FUNCTION IF EXISTS app.fail_queue_item(uuid, text, text);
DROP FUNCTION IF EXISTS app.context_stamp(text, text);
