-- app_private.merge_token_breakdown: the current definition of this function.
-- First created by sql/0620_token_accounting.sql.
-- Serves: seed 001 TokenUsageDaily trigger + cost control circuit breaker + question 3 (skip today's
--         episodes, eligible again tomorrow); seed 000 P2 (token accounting), "test token accounting accuracy".
-- pgkit:after 0620_token_accounting.sql

CREATE OR REPLACE FUNCTION app_private.merge_token_breakdown(p_old jsonb, p_delta jsonb)
RETURNS jsonb
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $$
  SELECT coalesce(pg_catalog.jsonb_object_agg(k.key, pg_catalog.jsonb_build_object(
           'tokens', coalesce((p_old -> k.key ->> 'tokens')::bigint, 0) + coalesce((p_delta -> k.key ->> 'tokens')::bigint, 0),
           'cost',   coalesce((p_old -> k.key ->> 'cost')::numeric, 0) + coalesce((p_delta -> k.key ->> 'cost')::numeric, 0),
           'calls',  coalesce((p_old -> k.key ->> 'calls')::bigint, 0) + coalesce((p_delta -> k.key ->> 'calls')::bigint, 0))),
         '{}'::jsonb)
  FROM (SELECT pg_catalog.jsonb_object_keys(coalesce(p_old, '{}'::jsonb)) AS key
        UNION
        SELECT pg_catalog.jsonb_object_keys(coalesce(p_delta, '{}'::jsonb))) k
$$;
