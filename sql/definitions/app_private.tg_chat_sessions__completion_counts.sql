-- app_private.tg_chat_sessions__completion_counts: the current definition of this function and the triggers that call it.
-- First created by sql/0650_completion_counters.sql.
-- Serves: seed 004 #2, #9, #10, #31, #32; seed 000 P4.
-- pgkit:after 0650_completion_counters.sql

CREATE OR REPLACE FUNCTION app_private.tg_chat_sessions__completion_counts()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_week        timestamptz := app_private.week_start(pg_catalog.now());
  v_old_counted boolean := false;
  v_old_week    boolean := false;
  v_new_counted boolean := false;
  v_new_week    boolean := false;
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    v_old_counted := OLD.is_completed AND OLD.scenario_id IS NOT NULL AND OLD.deleted_at IS NULL;
    v_old_week := v_old_counted AND OLD.completed_at >= v_week;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    v_new_counted := NEW.is_completed AND NEW.scenario_id IS NOT NULL AND NEW.deleted_at IS NULL;
    v_new_week := v_new_counted AND NEW.completed_at >= v_week;
  END IF;

  IF TG_OP = 'UPDATE' AND OLD.user_id = NEW.user_id THEN
    IF v_old_counted <> v_new_counted OR v_old_week <> v_new_week THEN
      UPDATE app.users u
      SET completed_scenario_count = u.completed_scenario_count + (v_new_counted::integer - v_old_counted::integer),
          current_week_completion_count = u.current_week_completion_count + (v_new_week::integer - v_old_week::integer)
      WHERE u.id = NEW.user_id;
    END IF;
    RETURN NULL;
  END IF;

  IF v_old_counted THEN
    UPDATE app.users u
    SET completed_scenario_count = u.completed_scenario_count - 1,
        current_week_completion_count = u.current_week_completion_count - v_old_week::integer
    WHERE u.id = OLD.user_id;
  END IF;
  IF v_new_counted THEN
    UPDATE app.users u
    SET completed_scenario_count = u.completed_scenario_count + 1,
        current_week_completion_count = u.current_week_completion_count + v_new_week::integer
    WHERE u.id = NEW.user_id;
  END IF;
  RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER chat_sessions_completion_counts
  AFTER INSERT OR DELETE OR UPDATE OF is_completed, completed_at, scenario_id, user_id, deleted_at ON app.chat_sessions
  FOR EACH ROW EXECUTE FUNCTION app_private.tg_chat_sessions__completion_counts();
