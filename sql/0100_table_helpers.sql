-- 0100: helpers the table files share (no tables here).
--   app_private.tg__set_updated_at()          keeps updated_at honest on every UPDATE (seed 004 #38, #39)
--   app_private.is_valid_timezone(text)       IANA name check used by users.timezone (seed 001 timezone-aware scheduling)
--   app_private.create_month_partitions(...)  DEFAULT partition + current month + N ahead for the
--                                             range-partitioned append-only tables, named like pg_partman 4.7
--                                             (<parent>_pYYYY_MM, <parent>_default) so partman adopts them
--                                             (seed 004 #30; seed 000 P4 scale).
-- Serves: seed 004 #30, #38, #39; seed 001 (timezone-aware scheduling).
-- pgkit:replaces sha256:fed685bb4e31621d44bc5c4838eefd6168e2929b3a68f1d711d61c1bc293059f
-- What this file wrote of functions and views (their definitions, grants, comments and triggers) now lives in
--   sql/definitions/: app_private.tg__set_updated_at.sql, app_private.is_valid_timezone.sql,
--   app_private.create_month_partitions.sql.

-- The IANA zone names this server knows, captured once when the bundle is applied: pg_timezone_names reads
-- the whole tz database on every call (about 100 ms), far too slow for a per-row CHECK. Re-running this file
-- refreshes the list (after a tzdata upgrade, say).
CREATE TABLE IF NOT EXISTS app_private.timezone_names (name text PRIMARY KEY);
INSERT INTO app_private.timezone_names (name)
SELECT name FROM pg_catalog.pg_timezone_names
ON CONFLICT (name) DO NOTHING;
