-- app_private.fold_template_use(): moves pending template uses (app_private.template_use_deltas) into
-- app.question_templates.usage_count and last_used_at (issue 17 #4). Returns the number of uses consumed. Safe
-- beside writers (a use committed after the DELETE's snapshot waits for the next fold); two folds at once are
-- prevented by the job lock. Uses of a template deleted meanwhile are discarded.
-- Serves: seed 002 #5b, Week 1 (top templates by usage).
-- pgkit:after 1002_template_usage.sql

CREATE OR REPLACE FUNCTION app_private.fold_template_use()
RETURNS bigint
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_rows bigint;
BEGIN
  WITH taken AS (
    DELETE FROM app_private.template_use_deltas d RETURNING d.template_id, d.used_at
  ), agg AS (
    SELECT t.template_id, count(*) AS n, max(t.used_at) AS last_used FROM taken t GROUP BY t.template_id
  ), upd AS (
    UPDATE app.question_templates q
    SET usage_count = q.usage_count + agg.n::integer,
        last_used_at = GREATEST(q.last_used_at, agg.last_used)
    FROM agg
    WHERE q.id = agg.template_id
    RETURNING q.id
  )
  SELECT coalesce(sum(agg.n), 0) INTO v_rows FROM agg;
  RETURN v_rows;
END
$$;
REVOKE ALL ON FUNCTION app_private.fold_template_use() FROM PUBLIC;
