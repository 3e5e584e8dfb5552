-- 0004: database-level defaults, applied to whichever database the bundle is applied to.
-- search_path: application tables first, then extension types and operators (vector, citext) so
-- clients can write `'[1,2,3]'::vector`; SECURITY DEFINER functions never rely on it (they pin their own).
-- timezone: all timestamps are stored and compared in UTC (seed 001: "store in UTC").
-- Serves: seed 004 #6 (extensions usable in fresh environments), seed 001 timezone-aware scheduling.

DO $$
BEGIN
  EXECUTE format('ALTER DATABASE %I SET search_path = app, extensions, public', current_database());
  EXECUTE format('ALTER DATABASE %I SET timezone = %L', current_database(), 'UTC');
END
$$;
