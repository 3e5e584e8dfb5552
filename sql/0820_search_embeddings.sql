-- 0820: app.search_embeddings(query, k, organization, ef_search): the product's tenant vector search, top-k of
-- an organization's embeddings nearest to `query` (cosine distance), in one server-side function.
-- One home for the search: the workload service, the benchmark script and the recall measurement call it
-- (loadtests/lib/vector.ts). Until now the same SQL was sent as an unnamed statement and planned on every call
-- (~1 ms of a 4-7 ms search); PL/pgSQL caches the plan per server connection, which works through PgBouncer's
-- transaction pooling (no protocol-level prepared statement is involved), and the search settings travel with
-- the function instead of in an extra round trip.
-- How it searches (measured in docs/loadtests.md), one statement with two branches of which exactly one runs,
-- each gated by a one-time filter on `scope`, the organization's row count up to 1,001 (an index-only scan of
-- rag_embeddings_organization_id_source_type_idx, sql/0810):
--   - up to 1,000 rows: exact distances over the organization's rows (recall 1 by construction; `+ 0` keeps
--     the HNSW index from serving that ORDER BY). The HNSW index with a filter would walk the graph through
--     other tenants' rows (p95 311 ms at dev scale before this split);
--   - more: the HNSW index with pgvector 0.8's iterative scan (hnsw.iterative_scan = relaxed_order keeps
--     walking until k rows pass the organization filter), ef_search as given. The index is over the
--     half-precision form of each vector (sql/0830), so this branch orders by that expression; the distances
--     returned, and the outer ORDER BY that re-sorts the k rows, are full precision.
-- enable_sort = off for the call: under RLS the planner multiplies the policy's selectivity with the explicit
-- organization predicate, expects a handful of rows even for the largest organization and would take the
-- btree and an exact sort there (98 ms against 7 ms through HNSW, as pgkit_app_login); with sorts penalized the
-- HNSW branch takes the index order, its one sort-free path. Both settings are function SET clauses: they
-- end with the call. ef_search is set for the rest of the transaction (set_config(..., true)).
-- SECURITY INVOKER: row-level security applies to the caller as for any query; the explicit organization
-- predicate is what the plan is built on. search_path pinned, operators schema-qualified.
-- Bad input raises 22023 with what was wrong.
-- Serves: seed 002 #1 (HNSW cosine search) and performance target (top-5 < 50 ms p95), seed 001 question 4
--         (memory similarity search), seed 000 P1 (tenant scoping).
-- pgkit:replaces sha256:f474e755ba671d0e98a87670419e0de0735a62103f80f7755cf493b950bff149
-- What this file wrote of functions and views (their definitions, grants, comments and triggers) now lives in
--   sql/definitions/: app.search_embeddings.sql.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

-- The search needs pgvector 0.8 (hnsw.iterative_scan) and the halfvec type (0.7, sql/0830): say so plainly
-- instead of failing later on an unknown setting or type.
DO $$
DECLARE
  v text := (SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'vector');
BEGIN
  IF v IS NULL OR pg_catalog.string_to_array(pg_catalog.split_part(v, '-', 1), '.')::int[] < ARRAY[0, 8, 0] THEN
    RAISE EXCEPTION 'pgvector % is installed, and app.search_embeddings needs 0.8.0 or later (iterative HNSW scans, halfvec)', coalesce(v, '(none)')
      USING ERRCODE = '0A000',
            HINT = 'Run ALTER EXTENSION vector UPDATE where 0.8 is available (locally: npm run setup builds 0.8.0; on RDS pick an engine minor version that ships pgvector 0.8), then apply again.';
  END IF;
END
$$;
