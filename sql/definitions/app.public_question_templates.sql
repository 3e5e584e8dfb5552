-- app.public_question_templates: the current definition of this view.
-- First created by sql/0480_public_views.sql.
-- Serves: seed 004 #28, seed 002 #3.
-- pgkit:after 0480_public_views.sql

CREATE OR REPLACE VIEW app.public_question_templates
WITH (security_invoker = true, security_barrier = true) AS
SELECT t.id, t.code, t.focus, t.depth, t.category, t.language
FROM app.question_templates t
WHERE t.enabled AND t.deleted_at IS NULL;
GRANT SELECT ON app.public_question_templates TO pgkit_anon, pgkit_readonly;
