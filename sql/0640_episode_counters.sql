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
-- pgkit:replaces sha256:864cf220c2712586ead79ccf31ab411ed8e407bfb5f8424bdc65e1a1088d4966
-- What this file wrote of functions and views (their definitions, grants, comments and triggers) now lives in
--   sql/definitions/: app_private.tg_highlights__count.sql,
--   app_private.tg_chat_sessions__episode_message_count.sql, app_private.fold_episode_counter_deltas.sql.

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
