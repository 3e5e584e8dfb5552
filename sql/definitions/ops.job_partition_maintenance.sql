-- ops.job_partition_maintenance: the current definition of this function.
-- First created by sql/0710_jobs.sql.
-- Serves: seed 004 #2, #30, #31, #32, #45; seed 001 (queue resilience, circuit breaker release).
-- pgkit:after 0710_jobs.sql

-- Partitions: partman.run_maintenance for each policy table (premake, retention drop), then the DEFAULT
-- partitions are checked. Returns {created, dropped, default_rows: {table: rows}, table_errors: {table: error}}.
-- SECURITY INVOKER, unlike the other jobs: pg_partman creates and drops tables as the caller (see 0700).
CREATE OR REPLACE FUNCTION ops.job_partition_maintenance()
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
AS $$
DECLARE
  v_job     text := 'partition_maintenance';
  v_id      uuid;
  v_started timestamptz := pg_catalog.clock_timestamp();
  v_major   integer := ops.partman_major_version();
  v_schema  text;
  v_before  text[];
  v_after   text[];
  v_default jsonb := '{}';
  v_errors  jsonb := '{}';
  v_rows    bigint;
  p         record;
  v_state text; v_msg text; v_ctx text;
BEGIN
  v_id := ops.job_begin(v_job);
  IF v_id IS NULL THEN
    RETURN pg_catalog.jsonb_build_object('job', v_job, 'status', 'skipped');
  END IF;
  BEGIN
    SELECT array_agg(format('%I.%I', n.nspname, c.relname) ORDER BY 1) INTO v_before
    FROM ops.partition_policies pp
    JOIN pg_catalog.pg_inherits i ON i.inhparent = pp.parent_table::regclass
    JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace;

    IF v_major IS NOT NULL THEN
      SELECT n.nspname INTO v_schema FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
      WHERE e.extname = 'pg_partman';
      PERFORM ops.register_partition_policies();  -- picks up policy edits and new policy rows
      -- One table's failure does not stop the others: it is logged (level error) and reported.
      FOR p IN SELECT pp.parent_table FROM ops.partition_policies pp ORDER BY 1 LOOP
        BEGIN
          EXECUTE pg_catalog.format('SELECT %I.run_maintenance(p_parent_table := $1, p_jobmon := false)', v_schema) USING p.parent_table;
        EXCEPTION WHEN OTHERS THEN
          GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT;
          v_errors := v_errors || pg_catalog.jsonb_build_object(p.parent_table, v_msg);
          INSERT INTO ops.logs (level, event_type, message, metadata)
          VALUES ('error', 'cleanup_failed', pg_catalog.format('partition maintenance of %s failed: %s', p.parent_table, v_msg),
                  pg_catalog.jsonb_build_object('job_id', v_id, 'job', v_job, 'parent_table', p.parent_table,
                                                'sqlstate', v_state, 'error', v_msg));
        END;
      END LOOP;
    ELSE
      FOR p IN SELECT pp.parent_table, pp.premake FROM ops.partition_policies pp ORDER BY 1 LOOP
        PERFORM app_private.create_month_partitions(p.parent_table::regclass, p.premake);
      END LOOP;
      INSERT INTO ops.logs (level, event_type, message, metadata)
      VALUES ('warn', 'cleanup_failed', 'pg_partman is not installed: partitions premade without it, retention not applied',
              pg_catalog.jsonb_build_object('job_id', v_id, 'job', v_job));
    END IF;

    SELECT array_agg(format('%I.%I', n.nspname, c.relname) ORDER BY 1) INTO v_after
    FROM ops.partition_policies pp
    JOIN pg_catalog.pg_inherits i ON i.inhparent = pp.parent_table::regclass
    JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace;

    -- Rows outside the premade range sit in <parent>_default: report them (an exact count; the DEFAULT
    -- partition of a healthy set is empty, so this is cheap).
    FOR p IN
      SELECT pp.parent_table, format('%I.%I', n.nspname, c.relname) AS default_table
      FROM ops.partition_policies pp
      JOIN pg_catalog.pg_inherits i ON i.inhparent = pp.parent_table::regclass
      JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE pg_catalog.pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'
      ORDER BY 1
    LOOP
      EXECUTE pg_catalog.format('SELECT count(*) FROM %s', p.default_table) INTO v_rows;
      IF v_rows > 0 THEN
        v_default := v_default || pg_catalog.jsonb_build_object(p.default_table, v_rows);
        INSERT INTO ops.logs (level, event_type, message, metadata)
        VALUES ('warn', 'partition_default_rows',
                pg_catalog.format('%s row(s) in %s: outside the premade partitions of %s', v_rows, p.default_table, p.parent_table),
                pg_catalog.jsonb_build_object('job_id', v_id, 'parent_table', p.parent_table,
                                              'default_table', p.default_table, 'rows', v_rows));
      END IF;
    END LOOP;
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT, v_ctx = PG_EXCEPTION_CONTEXT;
    RETURN ops.job_fail(v_id, v_job, v_started, v_state, v_msg, v_ctx);
  END;
  RETURN ops.job_end(v_id, v_job,
    (SELECT count(*) FROM (SELECT unnest(v_after) EXCEPT SELECT unnest(v_before)) x)
      + (SELECT count(*) FROM (SELECT unnest(v_before) EXCEPT SELECT unnest(v_after)) y),
    v_started,
    pg_catalog.jsonb_build_object(
      'partman_version', v_major,
      'created', to_jsonb(ARRAY(SELECT unnest(v_after) EXCEPT SELECT unnest(v_before) ORDER BY 1)),
      'dropped', to_jsonb(ARRAY(SELECT unnest(v_before) EXCEPT SELECT unnest(v_after) ORDER BY 1)),
      'default_rows', v_default,
      'table_errors', v_errors,
      'window', pg_catalog.jsonb_build_object('now', pg_catalog.now())));
END
$$;
REVOKE ALL ON FUNCTION ops.job_partition_maintenance() FROM PUBLIC;
