-- 0640: episode counter caches highlight_count and chat_message_count (seed 000 P4) without a hot row.
-- An episode is read and highlighted/discussed by many users of an organization at once, so "UPDATE
-- episodes SET highlight_count = highlight_count + 1" in every writer's transaction would queue them all on
-- one row lock (seed 004 #22). Instead writers only INSERT a delta row into app_private.episode_counter_deltas
-- (append-only: no lock shared between writers), and app_private.fold_episode_counter_deltas() — the
-- scheduled job ops.job_fold_episode_counters, every minute — moves the deltas into the episodes in one
-- UPDATE per episode. The caches are therefore eventually consistent (behind by at most one fold interval;
-- seed 004 #22 "accept eventual consistency") and exact after a fold: nothing is lost or counted twice,
-- because the fold deletes exactly the delta rows it adds (DELETE ... RETURNING in one statement).
--   highlights: live (not soft-deleted) highlights count; insert / soft delete / restore / delete / moving
--     a highlight to another episode adjust the count.
--   chat messages: deltas come from 0630 (per message) and from sessions here: deleting a session (its
--     messages cascade while the session row is already gone) or moving it to another episode moves its
--     live message count.
-- Serves: seed 000 P4 counter caches, seed 004 #22.

CREATE TABLE IF NOT EXISTS app_private.episode_counter_deltas (
  id                 uuid PRIMARY KEY DEFAULT extensions.gen_random_uuid(),
  episode_id         uuid NOT NULL,
  highlight_delta    integer NOT NULL DEFAULT 0,
  chat_message_delta integer NOT NULL DEFAULT 0,
  created_at         timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE app_private.episode_counter_deltas IS
  'Pending counter changes of app.episodes, folded in by app_private.fold_episode_counter_deltas(). No FK: a delta of a deleted episode is discarded by the fold.';
CREATE INDEX IF NOT EXISTS episode_counter_deltas_episode_id_idx ON app_private.episode_counter_deltas (episode_id);

CREATE OR REPLACE FUNCTION app_private.tg_highlights__count()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.deleted_at IS NULL THEN
    INSERT INTO app_private.episode_counter_deltas (episode_id, highlight_delta) VALUES (OLD.episode_id, -1);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.deleted_at IS NULL THEN
    INSERT INTO app_private.episode_counter_deltas (episode_id, highlight_delta) VALUES (NEW.episode_id, 1);
  END IF;
  RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER highlights_count
  AFTER INSERT OR DELETE ON app.highlights
  FOR EACH ROW EXECUTE FUNCTION app_private.tg_highlights__count();
-- Only real changes of the counted state: (episode_id, deleted_at IS NULL).
CREATE OR REPLACE TRIGGER highlights_count_update
  AFTER UPDATE OF episode_id, deleted_at ON app.highlights
  FOR EACH ROW
  WHEN (OLD.episode_id IS DISTINCT FROM NEW.episode_id OR (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL))
  EXECUTE FUNCTION app_private.tg_highlights__count();

CREATE OR REPLACE FUNCTION app_private.tg_chat_sessions__episode_message_count()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_old integer := OLD.message_count_main + OLD.message_count_helper;
BEGIN
  IF OLD.episode_id IS NOT NULL AND v_old <> 0 THEN
    INSERT INTO app_private.episode_counter_deltas (episode_id, chat_message_delta) VALUES (OLD.episode_id, -v_old);
  END IF;
  IF TG_OP = 'UPDATE' AND NEW.episode_id IS NOT NULL AND NEW.message_count_main + NEW.message_count_helper <> 0 THEN
    INSERT INTO app_private.episode_counter_deltas (episode_id, chat_message_delta)
    VALUES (NEW.episode_id, NEW.message_count_main + NEW.message_count_helper);
  END IF;
  RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER chat_sessions_episode_message_count
  AFTER DELETE ON app.chat_sessions
  FOR EACH ROW EXECUTE FUNCTION app_private.tg_chat_sessions__episode_message_count();
CREATE OR REPLACE TRIGGER chat_sessions_episode_message_count_move
  AFTER UPDATE OF episode_id ON app.chat_sessions
  FOR EACH ROW WHEN (OLD.episode_id IS DISTINCT FROM NEW.episode_id)
  EXECUTE FUNCTION app_private.tg_chat_sessions__episode_message_count();

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
