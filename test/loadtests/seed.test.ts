// The seeder against real PostgreSQL (tiny scale): deterministic, refuses a seeded database unless told to
// reset, embeddings with structure (recall of the tenant search against exact search), tenancy intact.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratedDatabase, type TestDb } from '../support/db.js';
import { testContextKeys } from '../support/context.js';
import { AlreadySeededError, seed } from '../../loadtests/seed/index.js';
import { resolveScale } from '../../loadtests/seed/scale.js';
import { EmbeddingSpace, cosine } from '../../loadtests/lib/embeddings.js';
import { Rng } from '../../loadtests/lib/prng.js';
import { parsePgbenchLog, percentile } from '../../loadtests/bench/report.js';

let db: TestDb;
const NOW = Date.UTC(2026, 10, 20, 12);
const opts = () => ({ adminUrl: db.superUrl, appUrl: db.appPooledUrl, scale: resolveScale('tiny'), seed: 'seed-test', reset: false, embeddings: true, dataFile: null, recallQueries: 40, now: NOW, log: () => {}, contextKeys: testContextKeys() });

beforeAll(async () => {
  db = await migratedDatabase();
  process.env.PGKIT_ENC_KEYS = JSON.stringify({ 'seed-test-1': randomBytes(32).toString('base64') });
});
afterAll(async () => {
  delete process.env.PGKIT_ENC_KEYS;
  await db?.drop();
});

describe('seeder', () => {
  let first: Awaited<ReturnType<typeof seed>>;
  let ids: string[];
  let indexesBefore: string[];
  // Every index on the app schema's tables and partitioned parents, with its validity.
  const indexDefinitions = async () =>
    (await db.pool.query<{ d: string }>(
      `SELECT t.relname || ': ' || regexp_replace(pg_get_indexdef(x.indexrelid), '^CREATE (UNIQUE )?INDEX \\S+ ', '') || ' valid=' || x.indisvalid AS d
       FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
       WHERE n.nspname = 'app' AND NOT t.relispartition ORDER BY 1`)).rows.map((r) => r.d);

  it('seeds every table, verifies tenancy through the app role, and measures recall', async () => {
    indexesBefore = await indexDefinitions();
    first = await seed(opts());
    const counts = Object.fromEntries(first.tables.map((t) => [t.table, t.rows]));
    expect(counts['app.users']).toBe(24);
    expect(counts['app.episodes']).toBe(80);
    expect(first.embeddingRows).toBe(300);
    expect(first.tenancyChecked).toBeGreaterThan(0);
    expect(first.recall!.tenantRecall).toBeGreaterThanOrEqual(0.95);
    ids = (await db.pool.query('SELECT id FROM app.episodes ORDER BY id')).rows.map((r) => r.id);
    const bad = await db.pool.query(`SELECT count(*)::int AS n FROM app.blocks b JOIN app.episodes e ON e.id = b.episode_id WHERE b.organization_id <> e.organization_id`);
    expect(bad.rows[0].n).toBe(0);
    // The indexes the seeder dropped for the load are back as the bundle made them: valid, and on every
    // partition of the partitioned tables (pg_get_indexdef's `ON ONLY` once left those without any).
    expect(await indexDefinitions()).toEqual(indexesBefore);
    const invalid = await db.pool.query(`SELECT indexrelid::regclass::text AS i FROM pg_index WHERE NOT indisvalid`);
    expect(invalid.rows).toEqual([]);
    // Every partition (the months the seeder added included) has its own index for each of its parent's.
    const missing = await db.pool.query(
      `SELECT c.relname AS part, pi.indexrelid::regclass::text AS parent_index
       FROM pg_index pi
       JOIN pg_class p ON p.oid = pi.indrelid AND p.relkind = 'p'
       JOIN pg_namespace n ON n.oid = p.relnamespace AND n.nspname = 'app'
       JOIN pg_inherits h ON h.inhparent = p.oid
       JOIN pg_class c ON c.oid = h.inhrelid
       WHERE NOT EXISTS (SELECT 1 FROM pg_inherits hi JOIN pg_index ci ON ci.indexrelid = hi.inhrelid
                         WHERE hi.inhparent = pi.indexrelid AND ci.indrelid = c.oid)`);
    expect(missing.rows).toEqual([]);
    const partitioned = await db.pool.query(`SELECT count(*)::int AS n FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid WHERE t.relkind = 'p' AND NOT x.indisprimary`);
    expect(partitioned.rows[0].n).toBeGreaterThan(5);
  });

  it('refuses a seeded database with a clear message', async () => {
    await expect(seed(opts())).rejects.toThrow(AlreadySeededError);
    await expect(seed(opts())).rejects.toThrow(/already holds data .* --reset/);
  });

  it('--reset seeds the same data again (deterministic ids)', async () => {
    await seed({ ...opts(), reset: true, recallQueries: 0 });
    const again = (await db.pool.query('SELECT id FROM app.episodes ORDER BY id')).rows.map((r) => r.id);
    expect(again).toEqual(ids);
  });
});

describe('embedding space', () => {
  it('has topic structure: same-topic vectors are much closer than other-topic ones, and all are unit length', () => {
    const s = new EmbeddingSpace({ dim: 256, topics: 20 });
    const d = s.describe(120);
    expect(d.sameTopicCosine - d.otherTopicCosine).toBeGreaterThan(0.15);
    const v = s.sample(new Rng('x'), 3);
    expect(cosine(v, v)).toBeCloseTo(1, 5);
    expect(Math.hypot(...v)).toBeCloseTo(1, 4);
  });
});

describe('bench report', () => {
  it('reads pgbench transaction logs (latency in microseconds) and counts failures', () => {
    const p = parsePgbenchLog('0 1 1500 0 1700000000 1\n0 2 2500 0 1700000000 2\n1 1 failed 0 1700000000 3\n');
    expect(p.latenciesMs).toEqual([1.5, 2.5]);
    expect(p.failed).toBe(1);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95)).toBe(10);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)).toBe(5);
  });
});
