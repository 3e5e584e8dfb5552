-- 0470: GDPR erasure (seed 000 P1 "GDPR compliance", seed 004 #35, validation checklist "verify GDPR
-- compliance"). Soft delete hides rows; erasure really removes a person on request:
--   app_private.erase_user(user_id, reason) -> jsonb counts. In one transaction:
--     * deletes the user's own rows: chat messages, chat sessions (and their embeddings, 0142), highlights,
--       planning notes, user and engagement events, memberships, operational log lines, and the user;
--     * keeps the organization's cost ledger but detaches it (token_usage.user_id := NULL);
--     * scrubs the audit trail: rows about the user's data (record_id = the user, or old/new data naming
--       the user_id) keep who/what/when but lose old_data/new_data; actor ids stay as pseudonymous uuids;
--     * logs that it ran: one audit row 'gdpr.erasure' (counts, reason) and an ops.logs line.
--   Granted to pgkit_maintenance only (the service acting on a verified request), never to the app role.
-- Serves: seed 000 P1, seed 004 #35, seed 003 §5.3.
-- pgkit:replaces sha256:ebc46dce42c29c4a1ec62fda405a9808f99249d778d5827f5cd86d3e6a07c0ca
-- What this file wrote of functions and views (their definitions, grants, comments and triggers) now lives in
--   sql/definitions/: app_private.erase_user.sql.

INSERT INTO ops.log_event_types (code, description) VALUES
  ('gdpr_erasure', 'A user was erased on request; metadata holds the counts'),
  ('key_rotation', 'Field encryption keys were rotated; metadata holds the rotation id and counts')
ON CONFLICT (code) DO NOTHING;
