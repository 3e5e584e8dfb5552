-- 0840: field-encryption key material is honoured only in the transaction that supplied it, like the request
-- context (sql/0800). The contract (src/security/keyring.ts SET_KEYS_SQL) becomes, per transaction:
--   set_config('app.enc_keys', <keys json>, true), set_config('app.enc_keys_xact', app.keys_stamp(<keys json>), true)
-- app.keys_stamp(keys) is '<the current transaction's start in microseconds>/<sha-256 of the keys, hex>'. PgBouncer
-- no longer resets server connections between clients, so material a buggy client set with a session-level SET
-- would otherwise stay on the server connection and serve later transactions that supplied none (found in
-- review: a request given no keys could decrypt). Now app_private.key_material() refuses it, as it refuses missing
-- keys. Superuser sessions are exempt (the pooler refuses superusers, so their sessions are never shared).
-- The material itself still never reaches a table; the stamp holds a hash of it, readable only by the session
-- that set it.
-- Serves: seed 000 P1 (field-level encryption; defense in depth), seed 003 §4.1 (pooling).
-- pgkit:replaces sha256:b7baf517709c626fe6b7c546a00494d5a644ea935efa60e3e5e651868fd16104
-- What this file wrote of functions and views (their definitions, grants, comments and triggers) now lives in
--   sql/definitions/: app_private.key_material.sql, app.keys_stamp.sql.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';
