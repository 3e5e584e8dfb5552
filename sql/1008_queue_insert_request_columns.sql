-- 1008: the application inserts a queue item only as a request to run (issue 16, noticed after #1). The app login
--   held INSERT on every column of app.episode_schedule_queue but id, so within its own organization it could
--   insert an item already 'processing' or 'completed', with a lease token, a lock holder, attempts or an error of
--   its choosing: the worker functions' bookkeeping (sql/0610, sql/0930), which a claim or the reaper then trusted.
--   Now it may name only what a request says: the project (and organization), the episode, when to run, how many
--   attempts, and metadata. Status starts 'pending' (or 'blocked', set by the cost breaker's trigger), and the
--   lease columns start empty. The worker login (a member of pgkit_app) inserts no items; app.schedule_project
--   (SECURITY DEFINER) is unaffected.
-- Serves: seed 004 #27 (grants list columns where writes must be limited), seed 002 (queue semantics: a lease is
--         only ever the claim's).
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

REVOKE INSERT ON app.episode_schedule_queue FROM pgkit_app;
GRANT INSERT (organization_id, project_id, episode_id, scheduled_for, max_attempts, metadata)
  ON app.episode_schedule_queue TO pgkit_app;
