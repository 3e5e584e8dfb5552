-- 0700: monthly partitions of the append-only tables handed to pg_partman, with premake, a monitored
-- DEFAULT partition and per-table retention by dropping whole partitions (seed 004 #30, #33).
--   pg_partman lives in its own schema `partman` (not relocatable; any database may create it). Debian 12
--     ships 4.7, RDS ships 5.x, and create_parent changed between them (5.x: p_type 'range' instead of
--     'native', p_interval must be an interval, p_default_table added, 4.x-only arguments gone).
--     ops.partman_create_parent_sql() writes the call with NAMED arguments for the installed major version,
--     using only arguments both versions know plus the one that differs; tests run the 4.7 path here and
--     bind the generated 5.x call against 5.x's signature.
--   ops.partition_policies: one row per partitioned table — premake and retention (NULL = keep forever).
--     token_usage 400 days (billing, a year back and a month of margin), user_events 400 days,
--     engagement_events 180 days, audit.audit_logs kept (the security bundle decides), ops.logs 30 days.
--   ignore_default_data: a stray row in DEFAULT (a far-future timestamp) must not make maintenance try to
--     create that month's partition (which fails while DEFAULT holds the row, and would otherwise stop
--     premake for the table): it stays in DEFAULT and is reported instead.
--   ops.register_partition_policies(): hands each table to partman. The schema (0100) premade a DEFAULT
--     partition with partman's own name, so the existing one is detached, partman creates its own, and rows
--     of the old one are moved through the parent into the right partitions. Idempotent: a table partman
--     already manages only gets its policy (premake, retention, infinite_time_partitions) refreshed.
--   The maintenance itself (partman.run_maintenance per table, retention, DEFAULT check) is the job
--     ops.job_partition_maintenance (0710), scheduled by pg_cron (0790).
-- If pg_partman is not installed on the server, the migration raises a NOTICE and the schema's static
-- partitions (this month + 2, DEFAULT) remain; the maintenance job then premakes with
-- app_private.create_month_partitions and logs that retention is not applied.
-- Serves: seed 004 #30 (partitioned logs, near-instant cleanup), #33 (retention plan), seed 000 P4 scale.
-- pgkit:replaces sha256:b76410d6ab721fa5e8522a815c8af33443cf8354481a35637f416cf8f402eb7c
-- pgkit:replaces sha256:c42e9829a518403f399b79462fc71d7a5f13240eab318a3b6676c2eeac6bcc1c
-- pg_partman gives each template table its parent's owner (pgkit_owner), and ALTER ... OWNER TO needs the new
-- owner to have CREATE on the schema; a superuser skipped that check, the RDS master user does not, so
-- pgkit_owner gets USAGE and CREATE on schema partman (issue 12; databases built before had a superuser apply
-- this file and need nothing).
-- What this file wrote of functions and views (their definitions, grants, comments and triggers) now lives in
--   sql/definitions/: ops.partman_major_version.sql, ops.partman_create_parent_sql.sql,
--   ops.register_partition_policies.sql.

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name = 'pg_partman') THEN
    CREATE SCHEMA IF NOT EXISTS partman;
    CREATE EXTENSION IF NOT EXISTS pg_partman WITH SCHEMA partman;
    GRANT USAGE, CREATE ON SCHEMA partman TO pgkit_owner;
  ELSE
    RAISE NOTICE 'pgkit: pg_partman is not available on this server; partitions stay static (this month + 2) and retention is not applied until it is installed';
  END IF;
END
$$;

CREATE TABLE IF NOT EXISTS ops.partition_policies (
  parent_table text PRIMARY KEY,
  control      text NOT NULL DEFAULT 'created_at',
  premake      integer NOT NULL DEFAULT 4,
  retention    interval,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT partition_policies_parent_table_check CHECK (parent_table ~ '^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$'),
  CONSTRAINT partition_policies_premake_check CHECK (premake BETWEEN 1 AND 24),
  CONSTRAINT partition_policies_retention_check CHECK (retention IS NULL OR retention >= interval '1 day'),
  CONSTRAINT partition_policies_updated_after_created_check CHECK (updated_at >= created_at)
);
COMMENT ON TABLE ops.partition_policies IS
  'Monthly partitioning policy per append-only table: premake and retention (NULL keeps everything). Applied by ops.register_partition_policies().';

CREATE OR REPLACE TRIGGER partition_policies_set_updated_at
  BEFORE UPDATE ON ops.partition_policies
  FOR EACH ROW EXECUTE FUNCTION app_private.tg__set_updated_at();

INSERT INTO ops.partition_policies (parent_table, premake, retention) VALUES
  ('app.token_usage', 4, interval '400 days'),
  ('app.user_events', 4, interval '400 days'),
  ('app.engagement_events', 4, interval '180 days'),
  ('audit.audit_logs', 4, NULL),
  ('ops.logs', 4, interval '30 days')
ON CONFLICT (parent_table) DO NOTHING;

SELECT ops.register_partition_policies();
