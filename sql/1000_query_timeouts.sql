-- 1000: query timeouts per role (issue 17 #1). statement_timeout and idle_in_transaction_session_timeout are set
-- on each login of a pgkit group role (ALTER ROLE <login> SET ...: settings of a group role are not inherited by
-- its members, and logins belong to an environment, so the values live in ops.expected_login_settings() and
-- ops.enforce_login_settings() applies them to the logins that exist). This file applies them now; the local
-- stack applies them again after creating its logins, and the guard job (every minute, sql/0900) keeps them and
-- gives them to a login created later (Pulumi on RDS). Same statements locally and on RDS: the admin that
-- applies the bundle has CREATEROLE, no superuser needed.
-- The database-wide idle_in_transaction_session_timeout (src/local/render.ts, the RDS parameter group) stays the
-- backstop for a login of no pgkit group; PgBouncer's query_timeout sits above every role's statement_timeout.
-- Serves: seed 003 §4.1 (query timeouts), Medium-Term #9; seed 003 §2.4 #2 (a database-side bound on a query).

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

INSERT INTO ops.log_event_types (code, description) VALUES
  ('login_role_settings_applied', 'A login of a pgkit group role was given its expected role-level settings (query timeouts)')
ON CONFLICT (code) DO NOTHING;

SELECT count(*) AS settings_changed FROM ops.enforce_login_settings();
