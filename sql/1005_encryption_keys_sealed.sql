-- 1005: field-encryption key material is passed only to the functions that need it, never left in a readable
--   setting (issue 16 #7). Until now a keyed transaction held the whole keyring in app.enc_keys (stamped for its
--   transaction by app.keys_stamp, sql/0840), so any SQL in that transaction, an injected statement included,
--   read every tenant's key material with current_setting('app.enc_keys'). Now, per transaction:
--     SELECT app.supply_encryption_keys($1)      -- the keyring JSON, a bind parameter
--   seals it under a key derived from the server-side app_private.context_mac_key (sql/0930), the transaction's
--   start and the backend (app_private.keys_seal_key), into app.enc_keys_sealed; app_private.supplied_keys()
--   opens it for app_private.key_material() and app_private.register_encryption_key(), which are the owner's and
--   executable by no login. A client reading any setting gets ciphertext it cannot open, and the sealed value
--   opens in no other transaction or backend (which also does what the stamp of sql/0840 did).
--   This file drops app.keys_stamp: the old contract (set_config('app.enc_keys', ...) with its stamp) no longer
--   supplies keys to the app or maintenance logins. Superuser sessions (scripts, tests; never pooled) may still
--   set app.enc_keys.
-- Serves: seed 000 P1 (field-level encryption; defense in depth), seed 003 §4.1 (pooling).
-- pgkit:drops definitions/app.keys_stamp.sql

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

DROP FUNCTION IF EXISTS app.keys_stamp(text);
