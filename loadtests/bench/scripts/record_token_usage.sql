-- record_token_usage: one usage row (the daily roll-up trigger runs in the same transaction).
\set n random(1, :nfix)
BEGIN;
SELECT app.authenticate_context(convert_from(extensions.decrypt(token_sealed, decode(:runkey, 'hex'), 'aes'), 'UTF8')) AS x, org_id AS o, user_id AS u, project_id AS p, episode_id AS e, block_id AS b, session_id AS s, topic AS t, focus AS f FROM loadtest.fixtures WHERE n = :n \gset
INSERT INTO app.token_usage (organization_id, project_id, user_id, operation, model_used, input_tokens, output_tokens, cost_gbp) VALUES (:o, :p, :u, 'chat', 'gpt-4o-mini', 800, 200, 0.0012);
END;
