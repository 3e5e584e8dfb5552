-- post_chat_message: encrypted insert with an idempotency key. Sessions are swept per client (n = client_id + i * clients) so a session is written at most every few seconds, inside the database rate limit (0630).
\set n 1 + ((:client_id + :i * :clients) % :nfix)
\set i :i + 1
BEGIN;
SELECT app.authenticate_context(convert_from(extensions.decrypt(token_sealed, decode(:runkey, 'hex'), 'aes'), 'UTF8')) AS x, org_id AS o, user_id AS u, session_id AS s, app.supply_encryption_keys(:enckeys) AS k FROM loadtest.fixtures WHERE n = :n \gset
INSERT INTO app.chat_messages (organization_id, session_id, user_id, role, chat_type, content, client_message_id) VALUES (:o, :s, :u, 'user', 'main', 'What changed this week?', extensions.gen_random_uuid()) ON CONFLICT (session_id, client_message_id) WHERE client_message_id IS NOT NULL DO NOTHING;
END;
