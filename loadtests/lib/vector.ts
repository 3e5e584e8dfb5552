// The vector search the product runs, and recall@k against exact search. The search itself is a database
// function, app.search_embeddings (sql/0820: exact search for organizations up to EXACT_SCAN_MAX_ROWS
// embeddings, the HNSW index with pgvector's iterative scan above, plan cached per server connection); the
// workload service, the recall measurement and the benchmark's script all call it.
// Vectors are stored inline (STORAGE PLAIN, sql/0795), so an exact scan reads one heap page per row instead
// of a TOAST lookup per row.
import type pg from 'pg';
import { AUTHENTICATE_SQL } from '../../src/db/context.js';
import { recallAt, vectorLiteral } from './embeddings.js';

/** Organizations with at most this many embeddings are searched exactly (the threshold in sql/0820). */
export const EXACT_SCAN_MAX_ROWS = 1000;

/** Parameters: $1 query vector, $2 k, $3 organization id, $4 hnsw.ef_search. */
export const VECTOR_SEARCH_SQL = 'SELECT id, source_type, source_id, chunk_index, distance FROM app.search_embeddings($1::extensions.vector, $2::int, $3::uuid, $4::int)';

/** 1 when the organization is searched through the HNSW index (more than EXACT_SCAN_MAX_ROWS rows). Parameter: $1 organization id. */
export const USES_INDEX_SQL = `SELECT count(*) > ${EXACT_SCAN_MAX_ROWS} AS hnsw
  FROM (SELECT 1 FROM app.rag_embeddings WHERE organization_id = $1::uuid LIMIT ${EXACT_SCAN_MAX_ROWS + 1}) n`;

/** The same rows by exact search: `+ 0` makes the ORDER BY expression unmatchable by the HNSW index. */
export const EXACT_SEARCH_SQL = `
SELECT e.id FROM app.rag_embeddings e
WHERE e.organization_id = $3::uuid
ORDER BY (e.embedding <=> $1::extensions.vector) + 0
LIMIT $2`;

/**
 * Unfiltered search over every embedding in the graph through the HNSW index (its expression, sql/0830, and its
 * predicate, sql/1009): HNSW quality on this data, independent of tenancy; the exact search runs over the same rows.
 */
export const GLOBAL_SEARCH_SQL = `SELECT e.id FROM app.rag_embeddings e WHERE e.in_vector_index ORDER BY e.embedding::extensions.halfvec(1536) <=> $1::extensions.vector::extensions.halfvec(1536) LIMIT $2`;
export const GLOBAL_EXACT_SQL = `SELECT e.id FROM app.rag_embeddings e WHERE e.in_vector_index ORDER BY (e.embedding <=> $1::extensions.vector) + 0 LIMIT $2`;

export interface RecallQuery {
  orgId: string;
  /** A member of the organization: the request context the product's search runs under. */
  userId: string;
  /** That user's signed context token (src/db/context-token.ts). */
  token: string;
  vector: Float32Array;
}

export interface RecallResult {
  queries: number;
  k: number;
  efSearch: number;
  tenantRecall: number;
  globalRecall: number;
  globalQueries: number;
  /** How many tenant searches took the HNSW branch (the rest: exact search over the organization's rows). */
  tenantIndexScans: number;
  /** Who ran the tenant searches: the application role (RLS applies, as in production) or the owner. */
  tenantRole: string;
}

/**
 * Recall@k of the product's tenant search and of an unfiltered HNSW search, each against exact search over
 * the same rows. The tenant searches run on `tenant`, which should be the application role (through the
 * pooler): under RLS the planner sees other estimates than the owner does, and the recall that counts is the
 * one of the plan production runs. The unfiltered searches need every row, so they run on `owner`.
 */
export async function measureRecall(tenant: pg.PoolClient | pg.Client, owner: pg.PoolClient | pg.Client, queries: RecallQuery[], k = 5, efSearch = 100, globalQueries = 50): Promise<RecallResult> {
  let tenantSum = 0;
  let global = 0;
  let indexScans = 0;
  const tenantRole = (await tenant.query<{ u: string }>('SELECT current_user AS u')).rows[0].u;
  for (const q of queries) {
    const lit = vectorLiteral(q.vector);
    await tenant.query('BEGIN');
    try {
      await tenant.query(AUTHENTICATE_SQL, [q.token]);
      const seen = (await tenant.query<{ o: string | null }>('SELECT app.current_org_id() AS o')).rows[0].o;
      if (seen !== q.orgId) throw new Error(`recall: the request context did not take as ${tenantRole} (organization ${q.orgId}, user ${q.userId}: current_org_id() is ${seen})`);
      const got = await tenant.query<{ id: string }>(VECTOR_SEARCH_SQL, [lit, k, q.orgId, efSearch]);
      if ((await tenant.query<{ hnsw: boolean }>(USES_INDEX_SQL, [q.orgId])).rows[0].hnsw) indexScans++;
      const exact = await tenant.query<{ id: string }>(EXACT_SEARCH_SQL, [lit, k, q.orgId]);
      tenantSum += recallAt(k, got.rows.map((r) => r.id), exact.rows.map((r) => r.id));
    } finally {
      await tenant.query('ROLLBACK');
    }
  }
  const nGlobal = Math.min(globalQueries, queries.length);
  for (const q of queries.slice(0, nGlobal)) {
    const lit = vectorLiteral(q.vector);
    await owner.query('BEGIN');
    try {
      await owner.query(`SET LOCAL hnsw.ef_search = ${Math.trunc(efSearch)}`);
      const got = await owner.query<{ id: string }>(GLOBAL_SEARCH_SQL, [lit, k]);
      const exact = await owner.query<{ id: string }>(GLOBAL_EXACT_SQL, [lit, k]);
      global += recallAt(k, got.rows.map((r) => r.id), exact.rows.map((r) => r.id));
    } finally {
      await owner.query('ROLLBACK');
    }
  }
  return {
    queries: queries.length,
    k,
    efSearch,
    tenantRecall: queries.length ? tenantSum / queries.length : 1,
    globalRecall: nGlobal ? global / nGlobal : 1,
    globalQueries: nGlobal,
    tenantIndexScans: indexScans,
    tenantRole,
  };
}
