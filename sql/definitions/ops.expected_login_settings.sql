-- ops.expected_login_settings(): the role-level settings every login of a pgkit group role is expected to carry
-- (issue 17 #1: query timeouts). A login takes the settings of the first group it is a member of, in rank order
-- (the admin that applies the bundle is a member of pgkit_migrator; a worker login is also a member of pgkit_app
-- through pgkit_worker). `guarded`: a login of that group is watched by ops.job_guard_login_roles, which removes
-- any other role-level setting it gives itself (issue 16 #3); the admin's other settings are the operator's.
-- Values, chosen for the work of each role:
--   pgkit_migrator     statement_timeout 1h, idle_in_transaction_session_timeout 10min: a backstop only; the
--                      runner sets its own per session (15min by default) and a file may SET LOCAL its own; the
--                      scheduled jobs run as this login (pg_cron runs them as the admin that scheduled them).
--   pgkit_maintenance  1h / 10min: GDPR erasure, key rotation batches, maintenance by hand.
--   pgkit_worker       5min / 5min: queue workers (a generation step may hold a transaction briefly).
--   pgkit_app          30s / 60s: a web request; the backstop of a query without a LIMIT (seed 003 §2.4 #2),
--                      far above the seed's p95 targets (50 ms vector search, 10 ms template lookup). The pooler's
--                      query_timeout (src/local/render.ts, infra/pooler) sits above the worker's 5min.
-- Serves: seed 003 §4.1 (query timeouts), Medium-Term #9; seed 003 §2.4 #2.
-- pgkit:after 0900_guard_login_roles.sql

CREATE OR REPLACE FUNCTION ops.expected_login_settings()
RETURNS TABLE (group_role name, rank integer, guarded boolean, setting text, value text)
LANGUAGE sql
IMMUTABLE
AS $$
  VALUES
    ('pgkit_migrator'::name,    1, false, 'statement_timeout',                   '1h'),
    ('pgkit_migrator'::name,    1, false, 'idle_in_transaction_session_timeout', '10min'),
    ('pgkit_maintenance'::name, 2, false, 'statement_timeout',                   '1h'),
    ('pgkit_maintenance'::name, 2, false, 'idle_in_transaction_session_timeout', '10min'),
    ('pgkit_worker'::name,      3, true,  'statement_timeout',                   '5min'),
    ('pgkit_worker'::name,      3, true,  'idle_in_transaction_session_timeout', '5min'),
    ('pgkit_app'::name,         4, true,  'statement_timeout',                   '30s'),
    ('pgkit_app'::name,         4, true,  'idle_in_transaction_session_timeout', '60s')
$$;
COMMENT ON FUNCTION ops.expected_login_settings() IS
  'Role-level settings (query timeouts) each login of a pgkit group role is expected to carry; enforced by ops.enforce_login_settings (issue 17 #1).';
REVOKE ALL ON FUNCTION ops.expected_login_settings() FROM PUBLIC;
