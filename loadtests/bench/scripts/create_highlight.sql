-- create_highlight: one insert (the episode counter delta is written by the database).
\set n random(1, :nfix)
BEGIN;
SELECT app.authenticate_context(convert_from(extensions.decrypt(token_sealed, decode(:runkey, 'hex'), 'aes'), 'UTF8')) AS x, org_id AS o, user_id AS u, project_id AS p, episode_id AS e, block_id AS b, session_id AS s, topic AS t, focus AS f FROM loadtest.fixtures WHERE n = :n \gset
INSERT INTO app.highlights (organization_id, user_id, episode_id, block_id, quote, start_offset, end_offset) VALUES (:o, :u, :e, :b, 'bench quote', 0, 12);
END;
