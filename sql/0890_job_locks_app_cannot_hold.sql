-- 0890: a scheduled job's "one run at a time" lock is a row of ops.job_locks, locked FOR UPDATE SKIP LOCKED in
-- the job's transaction (sql/definitions/ops.job_begin.sql), not an advisory lock. Any session may take any
-- advisory lock, so an app session holding pg_advisory_lock(hashtext('pgkit.job.<name>')) made every run of that
-- job skip, for all tenants (issue 16 #8). The application has no privilege on this table, so it can lock no row.
-- Serves: seed 004 #32 (idempotent, non-overlapping jobs), seed 000 P1 (database-level security).

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

CREATE TABLE IF NOT EXISTS ops.job_locks (
  job text PRIMARY KEY,
  CONSTRAINT job_locks_job_check CHECK (job ~ '^[a-z][a-z0-9_]*$')
);
COMMENT ON TABLE ops.job_locks IS
  'One row per scheduled job; ops.job_begin locks it FOR UPDATE SKIP LOCKED for the run''s transaction. Not readable or lockable by the application.';
REVOKE ALL ON ops.job_locks FROM PUBLIC, pgkit_app, pgkit_anon, pgkit_readonly;

-- The rows of the jobs the kit schedules (job_begin adds any other on first use).
INSERT INTO ops.job_locks (job)
SELECT regexp_replace(d.jobname, '^pgkit_', '') FROM ops.job_definitions() d
WHERE regexp_replace(d.jobname, '^pgkit_', '') ~ '^[a-z][a-z0-9_]*$'
ON CONFLICT DO NOTHING;
