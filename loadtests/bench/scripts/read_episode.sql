-- read_episode: the episode and its blocks in order.
\set n random(1, :nfix)
BEGIN;
SELECT app.authenticate_context(convert_from(extensions.decrypt(token_sealed, decode(:runkey, 'hex'), 'aes'), 'UTF8')) AS x, org_id AS o, user_id AS u, project_id AS p, episode_id AS e, block_id AS b, session_id AS s, topic AS t, focus AS f FROM loadtest.fixtures WHERE n = :n \gset
SELECT id, project_id, episode_number, title, status, published_at, highlight_count, chat_message_count, created_at FROM app.episodes WHERE id = :e AND deleted_at IS NULL;
SELECT id, type, position, content, confidence, research_citations FROM app.blocks WHERE episode_id = :e AND deleted_at IS NULL ORDER BY position;
END;
