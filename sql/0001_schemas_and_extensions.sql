-- 0001: schemas and extensions.
-- Extensions are declared explicitly and live in their own schema, never in public (seed 004 #6).
-- Schemas: app (tables the application uses), app_private (internals not granted to the app),
-- audit (audit trail), ops (logs, job runs, maintenance), extensions, pgbouncer (pooler auth lookup).
-- Serves: seed 004 #6 (pgcrypto declared), seed 002 #1 (pgvector), seed 004 #42 (citext).

CREATE SCHEMA IF NOT EXISTS extensions;
CREATE SCHEMA IF NOT EXISTS app;
CREATE SCHEMA IF NOT EXISTS app_private;
CREATE SCHEMA IF NOT EXISTS audit;
CREATE SCHEMA IF NOT EXISTS ops;
CREATE SCHEMA IF NOT EXISTS pgbouncer;

CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA extensions;
CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA extensions;
CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA extensions;
CREATE EXTENSION IF NOT EXISTS pg_stat_statements WITH SCHEMA extensions;

-- Nobody but the owner creates objects in public.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- Extension types and operators (vector, citext) are usable by every role; what is granted on
-- application objects is decided in the security bundle (0400-0599).
GRANT USAGE ON SCHEMA extensions TO PUBLIC;
