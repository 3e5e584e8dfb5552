-- template_lookup: enabled templates by focus, most used first.
\set n random(1, :nfix)
BEGIN \;
SELECT set_config('app.org_id', org_id::text, true) AS o, set_config('app.user_id', user_id::text, true) AS u, set_config('app.ctx_xact', app.context_stamp(org_id::text, user_id::text), true) AS x, project_id AS p, episode_id AS e, block_id AS b, session_id AS s, topic AS t, focus AS f FROM loadtest.fixtures WHERE n = :n \gset
SELECT id, code, focus, depth, category, template, variables FROM app.question_templates WHERE focus = ':f' AND enabled AND deleted_at IS NULL ORDER BY usage_count DESC, id LIMIT 10;
END;
