-- 0480: what an unauthenticated reader may see of the catalogues (seed 004 #28): a view per catalogue with
-- only the safe columns (no system prompt, no template text), security_invoker so the base table's RLS
-- (published / enabled, not deleted) applies to the reader; pgkit_anon holds column grants for exactly
-- those columns, so `SELECT system_prompt FROM app.scenarios` is refused to it.
-- Serves: seed 004 #28, seed 002 #3.
-- pgkit:replaces sha256:dbd9e14f4f165e2325034a3d862fc792ad7fbcd8ecd2629b4fd5d1b35c815acf
-- What this file wrote of functions and views (their definitions, grants, comments and triggers) now lives in
--   sql/definitions/: app.public_scenarios.sql, app.public_question_templates.sql.

GRANT SELECT (id, code, title, emoji, description, difficulty, sort_order, is_published, deleted_at)
  ON app.scenarios TO pgkit_anon;
GRANT SELECT (id, code, focus, depth, category, language, enabled, deleted_at)
  ON app.question_templates TO pgkit_anon;
