-- app_private.tg_highlights__count: the current definition of this function and the triggers that call it.
-- First created by sql/0640_episode_counters.sql.
-- Serves: seed 000 P4 counter caches, seed 004 #22.
-- pgkit:after 0640_episode_counters.sql

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
