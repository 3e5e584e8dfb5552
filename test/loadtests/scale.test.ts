// `npm run scale` (loadtests/scale): the growth analysis names what grows faster than the data, the report and its
// charts are written, and the whole path (fresh scratch database per scale, seed, sizes, HNSW memory, benchmark,
// recall) runs end to end on the test stack at tiny factors (0.001 and 0.002 of full scale: 2 organizations,
// 10-20 users, 100-200 episodes, 300 embeddings). Tiny on purpose: the machine is shared.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpResult } from '../../loadtests/bench/report.js';
import type { Endpoints } from '../../loadtests/lib/local.js';
import { resolveScale } from '../../loadtests/seed/scale.js';
import { analyse, measureScales, mergeScalePoints, parseFactors, writeReport, type ScalePoint } from '../../loadtests/scale/index.js';
import { growthExponent, lineChart } from '../../loadtests/scale/chart.js';
import { superUrl, testStack, urls } from '../support/stack.js';

const op = (name: string, blocks: number, p95: number): OpResult => ({
  op: name, transactions: 100, errors: 0, seconds: 1, tps: 100, p50: p95 / 2, p95, p99: p95, seedP95: 50, goalP95: 5, passSeed: p95 < 50, passGoal: p95 <= 5, blocksPerTxn: blocks,
});

function point(factor: number, rows: number, ops: OpResult[]): ScalePoint {
  return {
    factor, scale: resolveScale(String(factor)), measured: true, seedRows: rows, phases: { 'relational COPY': rows / 1000, 'HNSW build': rows / 2000 },
    copySeconds: {}, seedSeconds: rows / 500, databaseBytes: rows * 1000, indexBytes: rows * 300, hnswIndexBytes: rows * 100, tables: [],
    hnswSeconds: rows / 2000, hnswMemory: { peakAnonBytes: rows * 50, leaderHwmBytes: rows * 80, samples: 5, parallelWorkersSeen: 0, note: 'synthetic' },
    recall: null, ops, load: '0 / 0 / 0',
  };
}

describe('scale analysis and report', () => {
  it("a later run's factors join the day's report: each replaces its own factor's point, measured or skipped", () => {
    const morning = [point(0.1, 1e4, []), point(1, 1e5, []), point(3, 3e5, []), { factor: 10, measured: false as const, reason: 'disk' }];
    const tenX = point(10, 1e6, []);
    const merged = mergeScalePoints(morning, [tenX]);
    expect(merged.map((p) => [p.factor, p.measured])).toEqual([[0.1, true], [1, true], [3, true], [10, true]]);
    expect(merged[3]).toBe(tenX);
    // A factor skipped now does not drop the one measured earlier; one measured again replaces it.
    expect(mergeScalePoints(merged, [{ factor: 10, measured: false, reason: 'disk' }])[3]).toBe(tenX);
    const again = point(1, 2e5, []);
    expect(mergeScalePoints(morning, [again]).find((p) => p.factor === 1)).toBe(again);
  });

  it('names an operation whose buffers grow faster than the data, and not one that stays flat or linear', () => {
    const pts = [1e4, 1e5, 1e6].map((rows, i) => point([0.01, 0.1, 1][i], rows,
      [op('flat', 5, 2), op('linear', rows / 100, 2 + i), op('quadratic', (rows / 1e4) ** 2, 3 * 10 ** i)]));
    const a = analyse(pts);
    const by = Object.fromEntries(a.ops.map((o) => [o.op, o]));
    expect(by.flat.blocks.exponent).toBeCloseTo(0, 5);
    expect(by.flat.blocks.faster).toBe(false);
    expect(by.linear.blocks.exponent).toBeCloseTo(1, 5);
    expect(by.linear.blocks.faster).toBe(false);
    expect(by.quadratic.blocks.exponent).toBeCloseTo(2, 5);
    expect(by.quadratic.blocks.faster).toBe(true);
    expect(a.seedWithin2xOfLinear).toBe(true);
    const out = mkdtempSync(join(tmpdir(), 'pgkit-scale-'));
    try {
      const files = writeReport(pts, out, { when: '2026-12-06T00:00:00.000Z', where: 'test', duration: 1, clients: 2, seed: 's' });
      const md = readFileSync(files.md, 'utf8');
      const section = md.slice(md.indexOf('## Growing faster than the data'));
      expect(section).toMatch(/\*\*quadratic\*\*: buffers exponent 2\.00/);
      expect(section).not.toMatch(/\*\*(flat|linear)\*\*/);
      expect(JSON.parse(readFileSync(files.json, 'utf8')).points).toHaveLength(3);
      expect(files.charts.length).toBeGreaterThanOrEqual(8);
      for (const c of files.charts) expect(readFileSync(c, 'utf8')).toMatch(/^<svg [^]*<\/svg>\n$/);
      expect(readFileSync(files.charts.find((c) => c.endsWith('-buffers.svg'))!, 'utf8')).toContain('<polyline');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('fits the growth exponent and refuses bad factors', () => {
    expect(growthExponent([[1, 3], [10, 30], [100, 300]])).toBeCloseTo(1, 10);
    expect(growthExponent([[1, 3]])).toBeNull();
    expect(parseFactors('10,0.1,1,3')).toEqual([0.1, 1, 3, 10]);
    expect(() => parseFactors('0.1,11')).toThrow(/--scales 0.1,11 is not valid/);
    expect(lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [] })).toContain('no data');
  });
});

describe('npm run scale end to end (tiny factors, test stack)', () => {
  const database = `t_${process.pid}_scale`;
  let ep: Endpoints;
  beforeAll(() => {
    process.env.PGKIT_ENC_KEYS = JSON.stringify({ 'scale-test-1': randomBytes(32).toString('base64') });
    const { superuserDirect, appReadonlyPooled: _ro, ...u } = urls(database);
    ep = { ...u, loaderDirect: superuserDirect, appReadPooled: null, database, stack: testStack };
  });
  afterAll(async () => {
    delete process.env.PGKIT_ENC_KEYS;
    const c = new pg.Client({ connectionString: superUrl('postgres') });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(database)} WITH (FORCE)`);
    await c.end();
  });

  it('seeds each factor into a fresh database and measures seed phases, sizes, HNSW build and memory, operations and recall', async () => {
    const lines: string[] = [];
    const points = await measureScales({ ep, stackDatabase: testStack.database, factors: [0.002, 0.001], duration: 1, clients: 2,
      ops: ['list_projects', 'vector_search'], seed: 'scale-test', recallQueries: 10, log: (l) => lines.push(l) });
    expect(points.map((p) => p.factor)).toEqual([0.001, 0.002]);
    const [a, b] = points as ScalePoint[];
    expect(a.measured && b.measured).toBe(true);
    expect(b.seedRows).toBeGreaterThan(a.seedRows);
    for (const p of [a, b]) {
      expect(p.phases['relational COPY']).toBeGreaterThan(0);
      expect(p.hnswSeconds).toBeGreaterThan(0);
      expect(p.hnswIndexBytes).toBeGreaterThan(0);
      expect(p.databaseBytes).toBeGreaterThan(p.indexBytes);
      expect(p.tables.find((t) => t.table === 'app.episodes')!.rows).toBe(p.scale.episodes);
      expect(p.tables.find((t) => t.table === 'app.episodes')!.bytesPerOrgMonth).toBeGreaterThan(0);
      expect(p.recall!.tenantRecall).toBeGreaterThanOrEqual(0.95);
      expect(p.ops.map((o) => o.op)).toEqual(['list_projects', 'vector_search']);
      for (const o of p.ops) {
        expect(o.transactions).toBeGreaterThan(0);
        expect(o.errors).toBe(0);
        expect(o.blocksPerTxn).toBeGreaterThan(0);
      }
    }
    // A fresh database per scale: the second scale's audit trail holds no rows the first one's benchmark wrote.
    expect(lines.filter((l) => l.startsWith(`creating database ${database}`))).toHaveLength(2);
    // The scratch database is marked; one the tool did not create is refused, never dropped.
    const c = new pg.Client({ connectionString: superUrl('postgres') });
    await c.connect();
    try {
      await c.query(`COMMENT ON DATABASE ${pg.escapeIdentifier(database)} IS 'someone else''s'`);
    } finally {
      await c.end();
    }
    await expect(measureScales({ ep, stackDatabase: testStack.database, factors: [0.001], duration: 1, clients: 2, ops: ['list_projects'], seed: 's', recallQueries: 0, log: () => {} }))
      .rejects.toThrow(/was not created by npm run scale: refusing to drop it/);
    await expect(measureScales({ ep: { ...ep, database: testStack.database }, stackDatabase: testStack.database, factors: [0.001], duration: 1, clients: 2, ops: ['list_projects'], seed: 's', recallQueries: 0 }))
      .rejects.toThrow(/refusing to use the stack's own database/);
    expect(existsSync(join(testStack.home))).toBe(true);
  }, 300_000);
});
