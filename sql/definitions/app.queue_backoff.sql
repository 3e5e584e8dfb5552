-- app.queue_backoff: the current definition of this function.
-- First created by sql/0610_queue.sql.
-- Serves: seed 001 queue table / queue processing / exponential backoff / timezone-aware scheduling /
--         question 1 (many workers with SKIP LOCKED); seed 003 §5.2.
-- pgkit:after 0610_queue.sql

CREATE OR REPLACE FUNCTION app.queue_backoff(p_attempt integer)
RETURNS interval
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $$
  SELECT pg_catalog.make_interval(secs => LEAST(pg_catalog.power(2, GREATEST(p_attempt, 1) - 1), 300)::double precision)
$$;
COMMENT ON FUNCTION app.queue_backoff(integer) IS
  'Retry delay after the n-th failed attempt: 2^(n-1) seconds, capped at 300 s (seed 001).';
