-- 0870: tables created after sql/0450's policy loop (ops.rate_limits, sql/0630) lacked the analytics and job
-- roles' policies, so under forced row-level security pgkit_maintenance saw none of their rows (issue 16 #10).
-- app_private.ensure_service_role_policies() (sql/definitions/) adds what is missing; the event trigger now calls
-- it for every table created later.
-- Serves: seed 000 P1 (database-level security), seed 003 §3.4 (roles for access levels).

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

SELECT app_private.ensure_service_role_policies();
