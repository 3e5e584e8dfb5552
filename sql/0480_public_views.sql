-- 0480: what an unauthenticated reader may see of the catalogues (seed 004 #28): a view per catalogue with
-- only the safe columns (no system prompt, no template text), security_invoker so the base table's RLS
-- (published / enabled, not deleted) applies to the reader; pgkit_anon holds column grants for exactly
-- those columns, so `SELECT system_prompt FROM app.scenarios` is refused to it.
-- Serves: seed 004 #28, seed 002 #3.

CREATE OR REPLACE VIEW app.public_scenarios
WITH (security_invoker = true, security_barrier = true) AS
SELECT s.id, s.code, s.title, s.emoji, s.description, s.difficulty, s.sort_order
FROM app.scenarios s
WHERE s.is_published AND s.deleted_at IS NULL;

CREATE OR REPLACE VIEW app.public_question_templates
WITH (security_invoker = true, security_barrier = true) AS
SELECT t.id, t.code, t.focus, t.depth, t.category, t.language
FROM app.question_templates t
WHERE t.enabled AND t.deleted_at IS NULL;

GRANT SELECT (id, code, title, emoji, description, difficulty, sort_order, is_published, deleted_at)
  ON app.scenarios TO pgkit_anon;
GRANT SELECT (id, code, focus, depth, category, language, enabled, deleted_at)
  ON app.question_templates TO pgkit_anon;
GRANT SELECT ON app.public_scenarios, app.public_question_templates TO pgkit_anon, pgkit_readonly;
