-- app_private.tg__set_updated_at: the current definition of this function.
-- First created by sql/0100_table_helpers.sql, redefined by sql/0600_behaviour_foundation.sql (their headers say why).
-- Serves: seed 004 #32, #45 (job logging), #38/#39 (updated_at everywhere), seed 004 #29.
-- pgkit:after 0100_table_helpers.sql

-- updated_at: only a real change moves it, and it never goes backwards nor before created_at.
CREATE OR REPLACE FUNCTION app_private.tg__set_updated_at()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
AS $$
BEGIN
  IF NEW IS DISTINCT FROM OLD THEN
    -- Never before the previous value (which the CHECK updated_at >= created_at already bounds), so a
    -- clock that stepped back cannot fail an ordinary UPDATE. Tables without created_at use it too.
    NEW.updated_at := GREATEST(pg_catalog.clock_timestamp(), OLD.updated_at);
  END IF;
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION app_private.tg__set_updated_at() IS
  'BEFORE UPDATE trigger: sets NEW.updated_at to clock_timestamp() when the row changed; monotonic (never before OLD.updated_at).';
