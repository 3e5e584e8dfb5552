-- claim_queue_item: claim one due item (SKIP LOCKED) and complete it with the claim's lease token, two transactions, as the worker login with a queue-scoped worker token (sql/0930; the runner tops the queue up first).
\set n random(1, :nfix)
BEGIN;
SELECT app.authenticate_context(convert_from(extensions.decrypt(worker_token_sealed, decode(:runkey, 'hex'), 'aes'), 'UTF8')) AS x, org_id AS o, user_id AS u, project_id AS p, episode_id AS e, block_id AS b, session_id AS s, topic AS t, focus AS f FROM loadtest.fixtures WHERE n = :n \gset
SELECT id AS q, lease_token AS l FROM app.claim_queue_items('bench-' || :client_id::text, 1) \gset
END;
BEGIN;
SELECT app.authenticate_context(convert_from(extensions.decrypt(worker_token_sealed, decode(:runkey, 'hex'), 'aes'), 'UTF8')) FROM loadtest.fixtures WHERE n = :n;
SELECT app.complete_queue_item(:q, :l);
END;
