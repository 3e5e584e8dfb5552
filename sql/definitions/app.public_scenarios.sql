-- app.public_scenarios: the current definition of this view.
-- First created by sql/0480_public_views.sql.
-- Serves: seed 004 #28, seed 002 #3.
-- pgkit:after 0480_public_views.sql

CREATE OR REPLACE VIEW app.public_scenarios
WITH (security_invoker = true, security_barrier = true) AS
SELECT s.id, s.code, s.title, s.emoji, s.description, s.difficulty, s.sort_order
FROM app.scenarios s
WHERE s.is_published AND s.deleted_at IS NULL;
GRANT SELECT ON app.public_scenarios TO pgkit_anon, pgkit_readonly;
