-- claim_queue_item: claim one due item (SKIP LOCKED) and complete it, two transactions (the runner tops the queue up first).
\set n random(1, :nfix)
BEGIN \;
SELECT set_config('app.org_id', org_id::text, true) AS o, set_config('app.user_id', user_id::text, true) AS u, set_config('app.ctx_xact', app.context_stamp(org_id::text, user_id::text), true) AS x, project_id AS p, episode_id AS e, block_id AS b, session_id AS s, topic AS t, focus AS f FROM loadtest.fixtures WHERE n = :n \gset
SELECT id AS q FROM app.claim_queue_items('bench-:client_id', 1) \gset
END;
BEGIN;
SELECT app.complete_queue_item(':q', 'bench-:client_id');
END;
