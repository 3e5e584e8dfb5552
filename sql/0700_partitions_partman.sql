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

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name = 'pg_partman') THEN
    CREATE SCHEMA IF NOT EXISTS partman;
    CREATE EXTENSION IF NOT EXISTS pg_partman WITH SCHEMA partman;
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

-- Installed pg_partman major version (4 or 5), NULL when not installed.
CREATE OR REPLACE FUNCTION ops.partman_major_version()
RETURNS integer
LANGUAGE sql
STABLE
AS $$
  SELECT split_part(e.extversion, '.', 1)::integer FROM pg_catalog.pg_extension e WHERE e.extname = 'pg_partman'
$$;

-- The create_parent call for monthly partitions of p_parent, with named arguments, for pg_partman p_major.
CREATE OR REPLACE FUNCTION ops.partman_create_parent_sql(
  p_parent text, p_control text, p_premake integer, p_start timestamptz, p_major integer, p_schema text DEFAULT 'partman')
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
AS $$
DECLARE
  v_common text := pg_catalog.format(
    'p_parent_table := %L, p_control := %L, p_interval := %L, p_premake := %s, p_start_partition := %L',
    p_parent, p_control, '1 month', p_premake, pg_catalog.to_char(p_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS"+00"'));
BEGIN
  IF p_major = 4 THEN
    RETURN pg_catalog.format('SELECT %I.create_parent(%s, p_type := %L)', p_schema, v_common, 'native');
  ELSIF p_major = 5 THEN
    RETURN pg_catalog.format('SELECT %I.create_parent(%s, p_type := %L, p_default_table := true)', p_schema, v_common, 'range');
  END IF;
  RAISE EXCEPTION 'pg_partman % is not supported (4.x and 5.x are)', p_major USING ERRCODE = 'feature_not_supported';
END
$$;

-- SECURITY INVOKER: partman creates and drops partitions as the caller (the migrator, or the pg_cron job
-- owner), who owns the tables through pgkit_owner membership; the event trigger of 0410 hands new
-- partitions to pgkit_owner.
CREATE OR REPLACE FUNCTION ops.register_partition_policies()
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
AS $$
DECLARE
  v_major   integer := ops.partman_major_version();
  v_schema  text;
  p         record;
  v_sch     text;
  v_tab     text;
  v_old     text;
  v_cols    text;
  v_new     integer := 0;
  v_managed boolean;
BEGIN
  IF v_major IS NULL THEN
    RAISE NOTICE 'pgkit: pg_partman is not installed; partition policies are recorded but not applied';
    RETURN 0;
  END IF;
  SELECT n.nspname INTO v_schema FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
  WHERE e.extname = 'pg_partman';

  FOR p IN SELECT * FROM ops.partition_policies ORDER BY parent_table LOOP
    v_sch := split_part(p.parent_table, '.', 1);
    v_tab := split_part(p.parent_table, '.', 2);
    EXECUTE pg_catalog.format('SELECT EXISTS (SELECT 1 FROM %I.part_config WHERE parent_table = $1)', v_schema)
      INTO v_managed USING p.parent_table;
    IF NOT v_managed THEN
      v_old := NULL;
      IF to_regclass(pg_catalog.format('%I.%I', v_sch, v_tab || '_default')) IS NOT NULL THEN
        v_old := v_tab || '_default_pre_partman';
        EXECUTE pg_catalog.format('ALTER TABLE %I.%I DETACH PARTITION %I.%I', v_sch, v_tab, v_sch, v_tab || '_default');
        EXECUTE pg_catalog.format('ALTER TABLE %I.%I RENAME TO %I', v_sch, v_tab || '_default', v_old);
      END IF;
      EXECUTE ops.partman_create_parent_sql(p.parent_table, p.control, p.premake,
                                            date_trunc('month', pg_catalog.now()), v_major, v_schema);
      IF v_old IS NOT NULL THEN
        SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO v_cols
        FROM pg_catalog.pg_attribute a
        WHERE a.attrelid = pg_catalog.format('%I.%I', v_sch, v_old)::regclass
          AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '';
        -- A move, not new data: user triggers (roll-ups, audit) must not see these rows a second time.
        EXECUTE pg_catalog.format('ALTER TABLE %I.%I DISABLE TRIGGER USER', v_sch, v_tab);
        EXECUTE pg_catalog.format('INSERT INTO %I.%I (%s) SELECT %s FROM %I.%I', v_sch, v_tab, v_cols, v_cols, v_sch, v_old);
        EXECUTE pg_catalog.format('ALTER TABLE %I.%I ENABLE TRIGGER USER', v_sch, v_tab);
        EXECUTE pg_catalog.format('DROP TABLE %I.%I', v_sch, v_old);
      END IF;
      v_new := v_new + 1;
    END IF;
    EXECUTE pg_catalog.format(
      'UPDATE %I.part_config SET premake = $1, retention = $2, retention_keep_table = false, retention_keep_index = false,
              infinite_time_partitions = true, ignore_default_data = true
       WHERE parent_table = $3', v_schema)
      USING p.premake, p.retention::text, p.parent_table;
  END LOOP;
  RETURN v_new;
END
$$;
REVOKE ALL ON FUNCTION ops.register_partition_policies() FROM PUBLIC;

SELECT ops.register_partition_policies();
