-- app.next_run_at: the current definition of this function.
-- First created by sql/0610_queue.sql.
-- Serves: seed 001 queue table / queue processing / exponential backoff / timezone-aware scheduling /
--         question 1 (many workers with SKIP LOCKED); seed 003 §5.2.
-- pgkit:after 0610_queue.sql

-- Next slot of a cadence strictly after p_after, computed in p_timezone and returned as UTC.
--   cadence {"mode": weekly|daily|weekdays|custom, "days": [0..6, 0 = Sunday], "hour": 0..23 (default 9)}:
--   daily = every day, weekdays = Monday..Friday, weekly/custom = the listed days.
-- Local times that do not exist (spring-forward gap) or occur twice (fall-back) are resolved by
-- PostgreSQL's AT TIME ZONE rules: deterministic, and always a real UTC instant.
CREATE OR REPLACE FUNCTION app.next_run_at(p_cadence jsonb, p_timezone text, p_after timestamptz)
RETURNS timestamptz
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
  v_mode  text := coalesce(p_cadence->>'mode', 'weekly');
  v_hour  integer := coalesce((p_cadence->>'hour')::integer, 9);
  v_days  integer[];
  v_local timestamp := p_after AT TIME ZONE p_timezone;
  v_day   date;
  v_at    timestamptz;
BEGIN
  IF NOT app_private.is_valid_timezone(p_timezone) THEN
    RAISE EXCEPTION 'next_run_at: % is not a known timezone', p_timezone USING ERRCODE = 'invalid_parameter_value';
  END IF;
  v_days := CASE v_mode
    WHEN 'daily' THEN ARRAY[0, 1, 2, 3, 4, 5, 6]
    WHEN 'weekdays' THEN ARRAY[1, 2, 3, 4, 5]
    ELSE ARRAY(SELECT (jsonb_array_elements_text(p_cadence->'days'))::integer)
  END;
  IF coalesce(array_length(v_days, 1), 0) = 0 THEN
    RAISE EXCEPTION 'next_run_at: cadence has no days' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  FOR i IN 0 .. 8 LOOP
    v_day := v_local::date + i;
    IF extract(dow FROM v_day)::integer = ANY (v_days) THEN
      v_at := (v_day + pg_catalog.make_time(v_hour, 0, 0)) AT TIME ZONE p_timezone;
      IF v_at > p_after THEN
        RETURN v_at;
      END IF;
    END IF;
  END LOOP;
  RAISE EXCEPTION 'next_run_at: no slot found for %', p_cadence;  -- unreachable with 1..7 valid days
END
$$;
