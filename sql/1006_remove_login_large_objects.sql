-- 1006: large objects of the application's logins are found and removed by a scheduled job (issue 16 #8, large
--   objects). Any role may create large objects (lo_create, lo_import from the client, lo_from_bytea), and the
--   admin cannot revoke lo_* from PUBLIC: the functions belong to the bootstrap superuser (locally `postgres`, on
--   RDS the platform), so REVOKE is a no-op ("no privileges could be revoked"). An app session could keep data
--   there, outside row-level security, for any other session of that login to read (lo_compat_privileges is off,
--   but every session of the owning login owns them). The application never uses large objects, so any a login
--   owns is an attack or a bug: ops.job_remove_login_large_objects() (sql/definitions/) removes every large
--   object owned by a login of pgkit_app (the app and worker logins) and logs an error line per object (event
--   login_large_object_removed), which the monitoring reads like every error line. This file adds the event type
--   and the job's lock row, and schedules it every minute with the other jobs (sql/0790's rules).
-- Serves: seed 000 P1 (database-level security), seed 004 #32, #45 (jobs logged, alerting on errors).

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

INSERT INTO ops.log_event_types (code, description) VALUES
  ('login_large_object_removed', 'A login of the application owned a large object (the application uses none); the job removed it')
ON CONFLICT (code) DO NOTHING;

INSERT INTO ops.job_locks (job) VALUES ('remove_login_large_objects') ON CONFLICT DO NOTHING;

SELECT ops.schedule_jobs();
