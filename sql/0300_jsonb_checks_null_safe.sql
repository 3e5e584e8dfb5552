-- 0300: fix of four CHECKs of 0120/0121/0140/0201 (applied files are immutable, so the fix is its own
-- file). A CHECK passes when it evaluates to NULL, and `->` of a missing key is NULL: the old shapes let
-- a cadence without "mode"/"days", template variables without "placeholders" and a scroll_depth event
-- without "depth" through, and could raise 22023/22P02 instead of 23514 on a wrong JSON type. The new
-- expressions are NULL-free (coalesce / jsonpath) and never cast; jsonpaths are strict (no lax unwrapping of arrays) and silent (a missing key is no
-- match, not an error; silent mode returns NULL, hence coalesce) except the "has no key" test, which
-- needs lax mode (strict exists() on a missing key is unknown, not false). Same constraint names.
-- Serves: seed 003 §5.2 / §1.3.2 (database-level validation of jsonb shapes), seed 001 cadenceConfig,
--         seed 002 #6 (placeholder schema), seed 000 P3 (engagement event values), seed 001 (generation errors).

ALTER TABLE app.projects DROP CONSTRAINT IF EXISTS projects_cadence_config_check;
ALTER TABLE app.projects ADD CONSTRAINT projects_cadence_config_check CHECK (
  jsonb_typeof(cadence_config) = 'object'
  AND coalesce(cadence_config->>'mode' IN ('weekly', 'daily', 'weekdays', 'custom'), false)
  AND coalesce(jsonb_path_exists(cadence_config, 'strict $.days ? (@.type() == "array" && @.size() >= 1 && @.size() <= 7)', '{}', true), false)
  AND NOT coalesce(jsonb_path_exists(cadence_config, 'strict $.days[*] ? (@.type() != "number")', '{}', true), false)
  AND NOT coalesce(jsonb_path_exists(cadence_config, 'strict $.days[*] ? (@.type() == "number" && (@ < 0 || @ > 6 || @ != @.floor()))', '{}', true), false)
  AND NOT coalesce(jsonb_path_exists(cadence_config, 'strict $.hour ? (@.type() != "number")', '{}', true), false)
  AND NOT coalesce(jsonb_path_exists(cadence_config, 'strict $.hour ? (@.type() == "number" && (@ < 0 || @ > 23 || @ != @.floor()))', '{}', true), false));

ALTER TABLE app.episodes DROP CONSTRAINT IF EXISTS episodes_failed_has_error_check;
ALTER TABLE app.episodes ADD CONSTRAINT episodes_failed_has_error_check CHECK (
  status <> 'failed' OR (jsonb_typeof(generation_errors) = 'array' AND generation_errors <> '[]'::jsonb));

ALTER TABLE app.question_templates DROP CONSTRAINT IF EXISTS question_templates_variables_check;
ALTER TABLE app.question_templates ADD CONSTRAINT question_templates_variables_check CHECK (
  jsonb_typeof(variables) = 'object'
  AND coalesce(jsonb_typeof(variables->'placeholders') = 'array', false)
  AND NOT coalesce(jsonb_path_exists(variables, 'strict $.placeholders[*] ? (@.type() != "object")', '{}', true), false)
  AND NOT coalesce(jsonb_path_exists(variables, 'lax $.placeholders[*] ? (!exists(@.key))', '{}', true), false)
  AND NOT coalesce(jsonb_path_exists(variables, 'strict $.placeholders[*].key ? (@.type() != "string")', '{}', true), false));

ALTER TABLE app.engagement_events DROP CONSTRAINT IF EXISTS engagement_events_scroll_depth_check;
ALTER TABLE app.engagement_events ADD CONSTRAINT engagement_events_scroll_depth_check CHECK (
  event_type <> 'scroll_depth'
  OR coalesce(jsonb_path_exists(event_value, 'strict $.depth ? (@.type() == "number" && @ >= 0 && @ <= 100)', '{}', true), false));
