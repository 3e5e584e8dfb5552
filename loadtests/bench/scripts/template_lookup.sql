-- template_lookup: enabled templates by focus, most used first.
\set n random(1, :nfix)
BEGIN;
SELECT app.authenticate_context(convert_from(extensions.decrypt(token_sealed, decode(:runkey, 'hex'), 'aes'), 'UTF8')) AS x, org_id AS o, user_id AS u, project_id AS p, episode_id AS e, block_id AS b, session_id AS s, topic AS t, focus AS f FROM loadtest.fixtures WHERE n = :n \gset
SELECT id, code, focus, depth, category, template, variables FROM app.question_templates WHERE focus = :f AND enabled AND deleted_at IS NULL ORDER BY usage_count DESC, id LIMIT 10;
END;
