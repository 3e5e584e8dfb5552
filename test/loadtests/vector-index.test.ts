// The measurements' fresh HNSW graph (loadtests/lib/vector-index.ts), against real PostgreSQL on a tiny seed: a graph
// nobody wrote to since the seeder built it is left alone; any write since (even rows inserted and deleted again, which
// leave the table as it was but dead elements in the graph), load-test rows left behind, or a rebuild by someone else
// make the next run rebuild it first.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratedDatabase, type TestDb } from '../support/db.js';
import { testContextKeys } from '../support/context.js';
import { seed } from '../../loadtests/seed/index.js';
import { resolveScale } from '../../loadtests/seed/scale.js';
import { ensureFreshVectorIndex } from '../../loadtests/lib/vector-index.js';
import { LOADTEST_CHUNK_BASE } from '../../loadtests/lib/workload.js';

// The writers here are sessions that have ended, which flush their statistics as they exit: 1.5 s is enough for them
// (a live service backend can hold its own for 10 s: STATS_SETTLE_MS).
const SETTLE = 1500;
let db: TestDb;
let c: pg.Client;
const log: string[] = [];

const hnswFileNode = async () =>
  (await c.query<{ f: string }>(
    `SELECT i.relfilenode::text AS f FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_am a ON a.oid = i.relam
     WHERE x.indrelid = 'app.rag_embeddings'::regclass AND a.amname = 'hnsw'`)).rows[0].f;

// Another session writes, as a k6 run's service would: its statistics reach the counters when it goes idle.
async function elsewhere(sql: string, params: unknown[] = []): Promise<number> {
  const o = new pg.Client({ connectionString: db.superUrl });
  await o.connect();
  try {
    return (await o.query(sql, params)).rowCount ?? 0;
  } finally {
    await o.end();
  }
}

const COPY_ROWS = (chunkFrom: number) =>
  `INSERT INTO app.rag_embeddings (organization_id, source_type, source_id, chunk_index, embedding)
   SELECT b.organization_id, 'block', b.id, ${chunkFrom} + g, e.embedding
   FROM (SELECT organization_id, id FROM app.blocks ORDER BY id LIMIT 1) b, (SELECT embedding FROM app.rag_embeddings ORDER BY id LIMIT 1) e, generate_series(0, 4) g`;

beforeAll(async () => {
  db = await migratedDatabase();
  process.env.PGKIT_ENC_KEYS = JSON.stringify({ 'vector-index-test-1': randomBytes(32).toString('base64') });
  await seed({ adminUrl: db.superUrl, appUrl: db.appPooledUrl, scale: resolveScale('tiny'), seed: 'vector-index-test', reset: false, embeddings: true,
    dataFile: null, recallQueries: 0, now: Date.UTC(2026, 10, 20, 12), log: () => {}, contextKeys: testContextKeys() });
  c = new pg.Client({ connectionString: db.superUrl });
  await c.connect();
}, 180_000);
afterAll(async () => {
  delete process.env.PGKIT_ENC_KEYS;
  await c?.end();
  await db?.drop();
});

describe('a fresh HNSW graph before each vector measurement', () => {
  it('right after the seed, the graph is fresh: nothing is rebuilt', async () => {
    const before = await hnswFileNode();
    const r = await ensureFreshVectorIndex(c, (l) => log.push(l), SETTLE);
    expect(r).toMatchObject({ rebuilt: false, deletedRows: 0 });
    expect(await hnswFileNode()).toBe(before);
  });

  it('rows inserted and deleted again (the table as it was) still make it rebuild; then it is fresh again', async () => {
    const count = Number((await c.query('SELECT count(*) AS n FROM app.rag_embeddings')).rows[0].n);
    expect(await elsewhere(COPY_ROWS(500))).toBe(5);
    expect(await elsewhere('DELETE FROM app.rag_embeddings WHERE chunk_index BETWEEN 500 AND 504')).toBe(5);
    expect(Number((await c.query('SELECT count(*) AS n FROM app.rag_embeddings')).rows[0].n)).toBe(count);
    const before = await hnswFileNode();
    const r = await ensureFreshVectorIndex(c, (l) => log.push(l), SETTLE);
    expect(r.rebuilt).toBe(true);
    expect(r.reason).toMatch(/was written since its HNSW graph was built/);
    expect(await hnswFileNode()).not.toBe(before);
    const again = await ensureFreshVectorIndex(c, (l) => log.push(l), SETTLE);
    expect(again.reason).toMatch(/fresh/);
    expect(again.rebuilt).toBe(false);
  });

  it('load-test rows left behind are deleted and the graph rebuilt', async () => {
    expect(await elsewhere(COPY_ROWS(LOADTEST_CHUNK_BASE))).toBe(5);
    const r = await ensureFreshVectorIndex(c, (l) => log.push(l), SETTLE);
    expect(r).toMatchObject({ rebuilt: true, deletedRows: 5 });
    expect(Number((await c.query('SELECT count(*) AS n FROM app.rag_embeddings WHERE chunk_index >= $1', [LOADTEST_CHUNK_BASE])).rows[0].n)).toBe(0);
    expect((await ensureFreshVectorIndex(c, (l) => log.push(l), SETTLE)).rebuilt).toBe(false);
  });

  it('an index rebuilt or replaced by someone else is not taken on trust', async () => {
    await elsewhere('REINDEX INDEX app.rag_embeddings_indexed_embedding_halfvec_idx');
    const r = await ensureFreshVectorIndex(c, (l) => log.push(l), SETTLE);
    expect(r.rebuilt).toBe(true);
    expect(r.reason).toMatch(/rebuilt or replaced elsewhere/);
    expect(log.some((l) => /rebuilding app\.rag_embeddings_indexed_embedding_halfvec_idx and vacuuming/.test(l))).toBe(true);
  });
});
