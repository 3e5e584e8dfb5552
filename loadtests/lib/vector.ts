// The vector search the product runs (one home: the workload service, the recall measurement and the
// benchmark's script use this SQL), and recall@k against exact search.
//
// Tenancy: an organization searches its own embeddings. RLS filters too; the explicit predicate, with the
// organization as a parameter the planner sees (unnamed statements are planned with their values), lets it
// choose per organization: the organization_id index plus an exact sort for small organizations (exact,
// recall 1), the HNSW index for large ones. pgvector 0.8's iterative index
// scan keeps walking the HNSW graph until LIMIT rows pass the filter, so a filtered search still returns
// k rows; relaxed_order lets it return them without a final re-sort of the whole candidate set (the outer
// ORDER BY re-sorts the k rows).
import type pg from 'pg';
import { recallAt, vectorLiteral } from './embeddings.js';

export const VECTOR_SEARCH_SETTINGS = (efSearch: number) =>
  `SET LOCAL hnsw.ef_search = ${Math.trunc(efSearch)}; SET LOCAL hnsw.iterative_scan = relaxed_order`;

export const VECTOR_SEARCH_SQL = `
SELECT id, source_type, source_id, chunk_index, distance FROM (
  SELECT e.id, e.source_type, e.source_id, e.chunk_index, e.embedding <=> $1::extensions.vector AS distance
  FROM app.rag_embeddings e
  WHERE e.organization_id = $3::uuid
  ORDER BY e.embedding <=> $1::extensions.vector
  LIMIT $2
) top ORDER BY distance`;

/** The same rows by exact search: `+ 0` makes the ORDER BY expression unmatchable by the HNSW index. */
export const EXACT_SEARCH_SQL = `
SELECT e.id FROM app.rag_embeddings e
WHERE e.organization_id = $3::uuid
ORDER BY (e.embedding <=> $1::extensions.vector) + 0
LIMIT $2`;

/** Unfiltered search over every embedding (HNSW quality on this data, independent of tenancy). */
export const GLOBAL_SEARCH_SQL = `SELECT e.id FROM app.rag_embeddings e ORDER BY e.embedding <=> $1::extensions.vector LIMIT $2`;
export const GLOBAL_EXACT_SQL = `SELECT e.id FROM app.rag_embeddings e ORDER BY (e.embedding <=> $1::extensions.vector) + 0 LIMIT $2`;

export interface RecallQuery {
  orgId: string;
  vector: Float32Array;
}

export interface RecallResult {
  queries: number;
  k: number;
  efSearch: number;
  tenantRecall: number;
  globalRecall: number;
  globalQueries: number;
  /** How many tenant searches used the HNSW index (the rest used the organization index + exact sort). */
  tenantIndexScans: number;
}

/**
 * Recall@k of the product's tenant search and of an unfiltered HNSW search, each against exact search over
 * the same rows. Runs as the owner (superuser) with the organization set as request context.
 */
export async function measureRecall(c: pg.PoolClient | pg.Client, queries: RecallQuery[], k = 5, efSearch = 100, globalQueries = 50): Promise<RecallResult> {
  let tenant = 0;
  let global = 0;
  let indexScans = 0;
  for (const q of queries) {
    const lit = vectorLiteral(q.vector);
    await c.query('BEGIN');
    try {
      await c.query("SELECT set_config('app.org_id', $1, true)", [q.orgId]);
      await c.query(VECTOR_SEARCH_SETTINGS(efSearch));
      const got = await c.query<{ id: string }>(VECTOR_SEARCH_SQL, [lit, k, q.orgId]);
      const plan = await c.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${VECTOR_SEARCH_SQL}`, [lit, k, q.orgId]);
      if (plan.rows.some((r) => r['QUERY PLAN'].includes('rag_embeddings_embedding_idx'))) indexScans++;
      const exact = await c.query<{ id: string }>(EXACT_SEARCH_SQL, [lit, k, q.orgId]);
      tenant += recallAt(k, got.rows.map((r) => r.id), exact.rows.map((r) => r.id));
    } finally {
      await c.query('ROLLBACK');
    }
  }
  const nGlobal = Math.min(globalQueries, queries.length);
  for (const q of queries.slice(0, nGlobal)) {
    const lit = vectorLiteral(q.vector);
    await c.query('BEGIN');
    try {
      await c.query(`SET LOCAL hnsw.ef_search = ${Math.trunc(efSearch)}`);
      const got = await c.query<{ id: string }>(GLOBAL_SEARCH_SQL, [lit, k]);
      const exact = await c.query<{ id: string }>(GLOBAL_EXACT_SQL, [lit, k]);
      global += recallAt(k, got.rows.map((r) => r.id), exact.rows.map((r) => r.id));
    } finally {
      await c.query('ROLLBACK');
    }
  }
  return {
    queries: queries.length,
    k,
    efSearch,
    tenantRecall: queries.length ? tenant / queries.length : 1,
    globalRecall: nGlobal ? global / nGlobal : 1,
    globalQueries: nGlobal,
    tenantIndexScans: indexScans,
  };
}
