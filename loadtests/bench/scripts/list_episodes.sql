-- list_episodes: a project's published episodes, newest first (episodes_project_id_status_published_at_idx).
\set n random(1, :nfix)
BEGIN;
SELECT app.authenticate_context(convert_from(extensions.decrypt(token_sealed, decode(:runkey, 'hex'), 'aes'), 'UTF8')) AS x, org_id AS o, user_id AS u, project_id AS p, episode_id AS e, block_id AS b, session_id AS s, topic AS t, focus AS f FROM loadtest.fixtures WHERE n = :n \gset
SELECT id, episode_number, title, status, published_at, highlight_count, chat_message_count FROM app.episodes WHERE project_id = :p AND status = 'published' AND deleted_at IS NULL ORDER BY published_at DESC, id DESC LIMIT 20;
END;
