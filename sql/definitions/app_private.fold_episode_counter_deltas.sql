-- app_private.fold_episode_counter_deltas: the current definition of this function.
-- First created by sql/0640_episode_counters.sql.
-- Serves: seed 000 P4 counter caches, seed 004 #22.
-- pgkit:after 0640_episode_counters.sql

-- Moves pending deltas into app.episodes. Returns the number of delta rows consumed. Safe to run at any
-- time and concurrently with writers (a delta committed after the DELETE's snapshot waits for the next
-- fold); two folds at once are prevented by the job lock (ops.job_begin).
CREATE OR REPLACE FUNCTION app_private.fold_episode_counter_deltas()
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
    DELETE FROM app_private.episode_counter_deltas d
    RETURNING d.episode_id, d.highlight_delta, d.chat_message_delta
  ), agg AS (
    SELECT t.episode_id, sum(t.highlight_delta)::integer AS h, sum(t.chat_message_delta)::integer AS m, count(*) AS n
    FROM taken t GROUP BY t.episode_id
  ), upd AS (
    UPDATE app.episodes e
    SET highlight_count = e.highlight_count + agg.h,
        chat_message_count = e.chat_message_count + agg.m
    FROM agg
    WHERE e.id = agg.episode_id AND (agg.h <> 0 OR agg.m <> 0)
    RETURNING e.id
  )
  SELECT coalesce(sum(agg.n), 0) INTO v_rows FROM agg;
  RETURN v_rows;
END
$$;
REVOKE ALL ON FUNCTION app_private.fold_episode_counter_deltas() FROM PUBLIC;
