-- ops.register_partition_policies: the current definition of this function.
-- First created by sql/0700_partitions_partman.sql.
-- Serves: seed 004 #30 (partitioned logs, near-instant cleanup), #33 (retention plan), seed 000 P4 scale.
-- pgkit:after 0650_completion_counters.sql

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
  v_old     text[];
  v_child   text;
  v_aside   text;
  v_idx     oid;
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
      -- The schema (0100) premade this month + 2 and a DEFAULT partition. pg_partman 4.7 names monthly
      -- partitions <table>_pYYYY_MM and would skip those, but 5.x names them <table>_pYYYYMMDD and refuses to
      -- create one that overlaps a premade one. So, on both majors alike, every existing child is detached and
      -- set aside, partman creates its own set, and the rows are moved through the parent into them.
      v_old := ARRAY[]::text[];
      FOR v_child IN
        SELECT c.relname FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = pg_catalog.format('%I.%I', v_sch, v_tab)::regclass ORDER BY c.relname
      LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %I.%I DETACH PARTITION %I.%I', v_sch, v_tab, v_sch, v_child);
        v_aside := left(v_child, 48) || '_pre_partman';
        EXECUTE pg_catalog.format('ALTER TABLE %I.%I RENAME TO %I', v_sch, v_child, v_aside);
        -- Its indexes too: partman's new partition of the same name must get the same index names (not "…_idx1").
        FOR v_idx IN SELECT x.indexrelid FROM pg_catalog.pg_index x
                     WHERE x.indrelid = pg_catalog.format('%I.%I', v_sch, v_aside)::regclass LOOP
          EXECUTE pg_catalog.format('ALTER INDEX %s RENAME TO %I', v_idx::regclass, 'pre_partman_' || v_idx::oid);
        END LOOP;
        v_old := v_old || v_aside;
      END LOOP;
      EXECUTE ops.partman_create_parent_sql(p.parent_table, p.control, p.premake,
                                            date_trunc('month', pg_catalog.now()), v_major, v_schema);
      IF cardinality(v_old) > 0 THEN
        SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO v_cols
        FROM pg_catalog.pg_attribute a
        WHERE a.attrelid = pg_catalog.format('%I.%I', v_sch, v_tab)::regclass
          AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '';
        -- A move, not new data: user triggers (roll-ups, audit) must not see these rows a second time.
        EXECUTE pg_catalog.format('ALTER TABLE %I.%I DISABLE TRIGGER USER', v_sch, v_tab);
        FOREACH v_child IN ARRAY v_old LOOP
          EXECUTE pg_catalog.format('INSERT INTO %I.%I (%s) SELECT %s FROM %I.%I', v_sch, v_tab, v_cols, v_cols, v_sch, v_child);
          EXECUTE pg_catalog.format('DROP TABLE %I.%I', v_sch, v_child);
        END LOOP;
        EXECUTE pg_catalog.format('ALTER TABLE %I.%I ENABLE TRIGGER USER', v_sch, v_tab);
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
