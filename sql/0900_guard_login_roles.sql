-- 0900: a login of the application can reconfigure itself for every future connection: ALTER ROLE CURRENT_USER
-- SET ... (or IN DATABASE ... SET ...) is allowed to any role for itself, and the setting outlives DISCARD ALL and
-- applies to all tenants (issue 16 #3: default_transaction_read_only, statement_timeout = 1, role = ...).
-- PostgreSQL offers no privilege to forbid it, so a scheduled job undoes it: ops.job_guard_login_roles()
-- (sql/definitions/) resets every role-level setting of a login that is a member of pgkit_app, logs an error line
-- (event login_role_reconfigured) per setting it removed, and runs every minute. This file adds the event type,
-- the job's lock row, and registers the job with pg_cron where it runs (sql/0790's rules).
-- Not covered: a login changing its own password. The catalogue that would show it (pg_authid) is closed on RDS;
-- a changed password locks the pooler out for that login (its auth_file verifier no longer matches), which the
-- pooler's health check reports.
-- Serves: seed 000 P1 (database-level security), seed 004 #45 (jobs monitored).

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

INSERT INTO ops.log_event_types (code, description) VALUES
  ('login_role_reconfigured', 'A login of the application had set a role-level default for itself; the guard job removed it')
ON CONFLICT (code) DO NOTHING;

INSERT INTO ops.job_locks (job) VALUES ('guard_login_roles') ON CONFLICT DO NOTHING;

SELECT ops.schedule_jobs();
