-- 0795: storage and indexing choices measured by the load tests (issue 7, docs/loadtests.md).
--   app.rag_embeddings.embedding is stored inline (STORAGE PLAIN) instead of pgvector's default EXTERNAL:
--     a vector(1536) is 6,152 bytes, over the 2 KB TOAST threshold, so by default every row's vector lives
--     in the TOAST table (4 chunks behind a TOAST index lookup). The tenant vector search computes exact
--     distances over a small organization's rows (loadtests/lib/vector.ts) and the HNSW branch computes the
--     distance of each returned row: both detoasted every vector. Inline, a row is one heap page (one
--     vector per 8 KB page) and no TOAST lookup. A vector(1536) row fits a page (the limit is ~8,160 bytes;
--     content, the only other large column, stays EXTENDED and is moved out first). Applies to rows written
--     from now on; existing rows move inline when rewritten (VACUUM FULL / pg_repack), not needed for
--     correctness.
-- Serves: seed 002 performance targets (vector similarity search top-5, bulk embedding insert).

ALTER TABLE app.rag_embeddings ALTER COLUMN embedding SET STORAGE PLAIN;
