-- 1007: app.create_organization's slug oracle, limited (issue 16 #5, create_organization). A slug is a public,
--   globally unique name (like a username): whoever picks one must be told it is taken, so "is this slug taken"
--   cannot be hidden. What can be bounded is how fast a user asks: create_organization (sql/definitions/) now
--   answers a taken slug with NULL instead of a unique violation (an answer, not an error, so the attempt it
--   records is kept), records every attempt as a log line of the caller (event organization_create_attempt), and
--   refuses with P0429 once the caller made max_events attempts within per_interval (ops.rate_limits row
--   organizations.create: 10 an hour by default, per-organization rows do not apply: the caller has no
--   organization yet). Erasure removes the attempts with the user's other log lines.
-- Serves: seed 000 P1 (tenant isolation; "validate RLS policies can't be bypassed"), seed 004 #43 (rate limits).

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

INSERT INTO ops.log_event_types (code, description) VALUES
  ('organization_create_attempt', 'A user asked app.create_organization for a slug (rate-limited: ops.rate_limits organizations.create)')
ON CONFLICT (code) DO NOTHING;

INSERT INTO ops.rate_limits (name, organization_id, max_events, per_interval)
VALUES ('organizations.create', NULL, 10, interval '1 hour')
ON CONFLICT (name, organization_id) DO NOTHING;
