-- list_projects: a page of the organization's projects (keyset order name, id).
\set n random(1, :nfix)
BEGIN;
SELECT app.authenticate_context(convert_from(extensions.decrypt(token_sealed, decode(:runkey, 'hex'), 'aes'), 'UTF8')) AS x, org_id AS o, user_id AS u, project_id AS p, episode_id AS e, block_id AS b, session_id AS s, topic AS t, focus AS f FROM loadtest.fixtures WHERE n = :n \gset
SELECT id, name, is_paused, next_scheduled_at, created_at FROM app.projects WHERE deleted_at IS NULL ORDER BY name, id LIMIT 20;
END;
