// The k6 scenarios (loadtests/k6) run for real against the workload service, in its own process, on a seeded
// database through PgBouncer. k6 cannot be installed here, so a stand-in runtime (test/support/k6) gives the
// scripts k6's modules: the scripts, their data file, their URLs, bodies and checks are the real ones, and so
// are the service and the database. What this does not prove: k6's executors and its thresholds engine.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { repoRoot } from '../../src/config.js';
import { reservePorts, type PortLease } from '../../src/proc/ports.js';
import { runInBackground, type Background } from '../../src/proc/run.js';
import { seed } from '../../loadtests/seed/index.js';
import { DEFAULT_RATES } from '../../loadtests/runner/k6.js';
import { stackSecrets } from '../../src/local/stack.js';
import { testStack } from '../support/stack.js';
import { resolveScale } from '../../loadtests/seed/scale.js';
import { migratedDatabase, type TestDb } from '../support/db.js';
// The k6 lib reads __ENV and open() when imported: imported in beforeAll, after installGlobals.
// (Template paths: the root tsconfig leaves the k6 scripts to their own, loadtests/k6/tsconfig.json.)
const k6Lib = (name: string) => import(`../../loadtests/k6/lib/${name}.ts`) as Promise<Record<string, unknown>>;
const k6Script = (name: string) => import(`../../loadtests/k6/${name}.ts`) as Promise<Scenario>;
let ENV_VARS: readonly string[];
let interleaveByOrganization: (us: ReadonlyArray<{ o: string }>) => number[];
let ROUTES: Record<string, string>;
import { execution, installGlobals, recorded } from '../support/k6/runtime.js';
import { bulkBodiesFor, LOADTEST_CHUNK_BASE, LOADTEST_RUN_SPAN } from '../../loadtests/lib/workload.js';
import { writeVectorBodies } from '../../loadtests/lib/vector-bodies.js';

type Threshold = string | { threshold: string; abortOnFail: boolean; delayAbortEval: string };
interface Scenario {
  options: { scenarios: Record<string, { exec?: string; preAllocatedVUs: number; maxVUs: number; rate?: number }>; thresholds: Record<string, Threshold[]> };
  handleSummary: (data: unknown) => Record<string, string>;
  setup?: () => unknown;
  teardown?: (data: unknown) => void;
  [exec: string]: unknown;
}

const SCENARIOS = ['browse', 'write-mix', 'queue-workers', 'vector-search', 'spike'] as const;
// A scenario's iterations make ~200 synchronous curl calls: at a load average of 25 on the 2-core build box one took
// 197 s, past the suite's 120 s default (an idle box: ~10 s).
const SCENARIO_TIMEOUT_MS = 300_000;
const targets = JSON.parse(readFileSync(join(repoRoot, 'loadtests', 'targets.json'), 'utf8')) as {
  operations: Record<string, { seed_p95_ms: number; p99_ms: number }>;
  errors: { max_rate: number };
};

let db: TestDb;
let service: Background | null = null;
let servicePort: PortLease | null = null;
let work: string;
let k6Env: Record<string, string>;
const scripts: Partial<Record<(typeof SCENARIOS)[number], Scenario>> = {};

beforeAll(async () => {
  db = await migratedDatabase();
  work = mkdtempSync(join(tmpdir(), 'pgkit-k6-'));
  const env = {
    DATABASE_URL: db.url,
    APP_POOLED_DATABASE_URL: db.appPooledUrl,
    WORKER_POOLED_DATABASE_URL: db.workerPooledUrl,
    // The test stack's context keys, registered in the test database: the seeder signs the data file's tokens
    // with them, the service checks them, and the database verifies them again (sql/0930).
    PGKIT_CONTEXT_KEYS: JSON.stringify(stackSecrets(testStack).contextKeys),
    PGKIT_ENC_KEYS: JSON.stringify({ 'k6-test-1': randomBytes(32).toString('base64') }),
  };
  const saved = { ctx: process.env.PGKIT_CONTEXT_KEYS, keys: process.env.PGKIT_ENC_KEYS };
  process.env.PGKIT_CONTEXT_KEYS = env.PGKIT_CONTEXT_KEYS;
  process.env.PGKIT_ENC_KEYS = env.PGKIT_ENC_KEYS;
  const dataFile = join(work, 'loadtest-data.json');
  try {
    await seed({ adminUrl: db.superUrl, scale: resolveScale('tiny'), seed: 'k6-test', reset: false, embeddings: true, dataFile, recallQueries: 0, log: () => {} });
  } finally {
    process.env.PGKIT_CONTEXT_KEYS = saved.ctx;
    process.env.PGKIT_ENC_KEYS = saved.keys;
    if (saved.ctx === undefined) delete process.env.PGKIT_CONTEXT_KEYS;
    if (saved.keys === undefined) delete process.env.PGKIT_ENC_KEYS;
  }
  servicePort = await reservePorts(1);
  const [port] = servicePort.ports;
  service = runInBackground(process.execPath, ['--import', 'tsx', join(repoRoot, 'loadtests', 'service', 'server.ts'), '--port', String(port), '--pool-size', '4'], { env, cwd: repoRoot });
  await service.waitFor(/workload service on/, 60_000);
  // DURATION 20s: vector-search needs a bulk body per second of it (21, made here as `npm run loadtest` makes them);
  // the test sends 12.
  const bodiesFile = join(work, 'vector-search-bodies');
  writeVectorBodies({ dataFile, out: bodiesFile, bulkCount: bulkBodiesFor(1, '20s') });
  k6Env = { BASE_URL: `http://127.0.0.1:${port}`, DATA_FILE: dataFile, TARGETS_FILE: join(repoRoot, 'loadtests', 'targets.json'), REPORT_DIR: work, DURATION: '20s', BODIES_FILE: bodiesFile };
  installGlobals(k6Env);
  for (const s of SCENARIOS) scripts[s] = (await import(`../../loadtests/k6/${s}.ts`)) as Scenario;
  ({ ENV_VARS, interleaveByOrganization } = (await k6Lib('config')) as { ENV_VARS: string[]; interleaveByOrganization: typeof interleaveByOrganization });
  ({ ROUTES } = (await k6Lib('ops')) as { ROUTES: Record<string, string> });
});

afterAll(async () => {
  await service?.stop();
  servicePort?.release();
  await db?.drop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A seeded PRNG (mulberry32): the scripts' random operation mixes then send the same operations on every run. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Runs every exec function of a scenario `iterations` times, as k6's VUs would, and returns what it sent. Math.random
 * is seeded for the run: with the real one, a 10% branch of a 60-iteration mix went unsent about once in 500 runs
 * (spike's post_chat_message), and the suite must never flake.
 */
async function runScenario(name: (typeof SCENARIOS)[number], iterations: number) {
  const m = scripts[name]!;
  recorded.requests.length = 0;
  recorded.checks.length = 0;
  const realRandom = Math.random;
  Math.random = seededRandom(0x9e3779b9);
  let setupData: unknown;
  const lifecycle = { setup: [] as typeof recorded.requests, teardown: [] as typeof recorded.requests };
  try {
    // As k6: setup() once, every iteration gets its result, teardown() once with it.
    if (m.setup) setupData = m.setup();
    lifecycle.setup = recorded.requests.splice(0);
    for (const [i, sc] of Object.entries(m.options.scenarios).entries()) {
      const fn = m[sc[1].exec ?? 'default'];
      expect(typeof fn, `${name}: scenario ${sc[0]} executes ${sc[1].exec ?? 'default'}, which the script must export`).toBe('function');
      for (let it = 0; it < iterations; it++) {
        execution.iterationInTest = it;
        execution.vuIdInTest = 1 + i;
        // vector-search's iterations are async (they read their bodies from a file, k6/experimental/fs): awaited, as k6 does.
        await (fn as (d: unknown) => unknown)(setupData);
      }
    }
    const n = recorded.requests.length;
    if (m.teardown) m.teardown(setupData);
    lifecycle.teardown = recorded.requests.splice(n);
  } finally {
    Math.random = realRandom;
  }
  return { requests: [...recorded.requests], checks: [...recorded.checks], setupData, lifecycle };
}

const opsIn = (thresholds: Record<string, unknown>) =>
  Object.keys(thresholds).map((k) => /^http_req_duration\{op:(.+)\}$/.exec(k)?.[1]).filter((x): x is string => !!x).sort();

describe('k6 scenarios against the workload service', () => {
  it.each(SCENARIOS)('%s: every request succeeds, every check passes, every operation it sends has its thresholds', async (name) => {
    // Enough iterations for the random operation mixes to reach every operation (write-mix: 10% branches);
    // vector-search has no mix, and each of its bulk iterations posts 100 vectors of 1,536 numbers.
    const { requests, checks } = await runScenario(name, name === 'vector-search' ? 12 : 60);
    expect(requests.length).toBeGreaterThan(0);
    const failed = requests.filter((r) => !r.expected);
    expect(failed.map((r) => `${r.method} ${r.url} -> ${r.status}`)).toEqual([]);
    expect(checks.filter((c) => !c.ok).map((c) => c.name)).toEqual([]);
    expect(checks.length).toBeGreaterThanOrEqual(requests.length);
    const sent = [...new Set(requests.map((r) => r.tags.op))].sort();
    expect(sent.every((op) => typeof op === 'string')).toBe(true);
    // Each operation the scenario sends is measured against its targets, and each threshold is exercised.
    expect(opsIn(scripts[name]!.options.thresholds)).toEqual(sent);
  }, SCENARIO_TIMEOUT_MS);

  it.each(SCENARIOS)('%s: thresholds make a run fail when it should (targets, an operation that never ran, unsent load, hopeless runs)', (name) => {
    const th = scripts[name]!.options.thresholds;
    const abort = (threshold: string) => ({ threshold, abortOnFail: true, delayAbortEval: '30s' });
    expect(th.http_req_failed).toEqual([`rate<${targets.errors.max_rate}`, abort('rate<0.1')]);
    expect(th.checks).toEqual([`rate>${1 - targets.errors.max_rate}`]);
    expect(th.dropped_iterations).toEqual(['count==0']);
    const ops = opsIn(th);
    expect(ops.length).toBeGreaterThan(0);
    for (const op of ops) {
      const t = targets.operations[op];
      expect(th[`http_req_duration{op:${op}}`]).toEqual([`p(95)<${t.seed_p95_ms}`, `p(99)<${t.p99_ms}`, abort(`p(95)<${t.seed_p95_ms * 10}`)]);
      expect(th[`http_reqs{op:${op}}`]).toEqual(['count>0']);
    }
  });

  it.each(SCENARIOS)('%s: pre-allocated VUs cover the rate at the p99 ceilings', (name) => {
    for (const sc of Object.values(scripts[name]!.options.scenarios)) {
      expect(sc.preAllocatedVUs).toBeGreaterThanOrEqual(2);
      expect(sc.maxVUs).toBeGreaterThanOrEqual(sc.preAllocatedVUs * 4);
    }
    // browse at its default rate: an iteration at the p99 ceilings (3 reads of 100 ms, a quarter of a template lookup
    // of 25 ms) is ~0.31 s, and 1.5x that many VUs are pre-allocated.
    if (name === 'browse') {
      const browse = scripts.browse!.options.scenarios.browse;
      expect(browse.rate).toBe(DEFAULT_RATES.browse);
      expect(browse.preAllocatedVUs).toBe(Math.ceil(DEFAULT_RATES.browse * (3 * 0.1 + 0.25 * 0.025) * 1.5));
    }
  });

  it.each(SCENARIOS)('%s: every request is named by its route, so URLs with ids group into one series', async (name) => {
    // The tiny seed's queue is drained by the first queue-workers run: due items again (as the benchmark tops it up).
    if (name === 'queue-workers') {
      await db.pool.query(`INSERT INTO app.episode_schedule_queue (organization_id, project_id, status, scheduled_for, created_at)
        SELECT p.organization_id, p.id, 'pending', now() - make_interval(mins => 10 * g + 1), now() - interval '2 days'
        FROM app.projects p CROSS JOIN generate_series(1, 5) g ON CONFLICT DO NOTHING`);
    }
    const { requests } = await runScenario(name, name === 'vector-search' ? 2 : 20);
    for (const r of requests) {
      expect(r.tags.name, `${r.method} ${r.url}`).toBe(ROUTES[r.tags.op]);
      const [method, route] = r.tags.name.split(' ');
      expect(r.method).toBe(method);
      const pattern = new RegExp(`^${route.replace(/:id/g, '[0-9a-f-]{36}')}(\\?.*)?$`);
      expect(new URL(r.url).pathname + new URL(r.url).search).toMatch(pattern);
    }
  }, SCENARIO_TIMEOUT_MS);

  it('browse spreads users across organizations from the first iteration (one user of each organization first)', async () => {
    const data = JSON.parse(readFileSync(join(work, 'loadtest-data.json'), 'utf8')) as { users: Array<{ u: string; o: string; p: string[] }> };
    const orgs = new Set(data.users.map((u) => u.o)).size;
    expect(orgs).toBeGreaterThan(1);
    const { requests } = await runScenario('browse', orgs + 2);
    // list_projects is the first request of each iteration: which user sent it is in its token.
    const firstUsers = requests.filter((r) => r.tags.op === 'list_episodes').map((r) => /projects\/([0-9a-f-]+)\/episodes/.exec(r.url)![1]);
    const orgOfProject = new Map(data.users.flatMap((u) => u.p.map((p) => [p, u.o] as const)));
    const touched = firstUsers.slice(0, orgs).map((p) => orgOfProject.get(p));
    expect(new Set(touched).size).toBe(orgs);
    // The data file lists users organization by organization; the plain order would not do this.
    expect(new Set(data.users.slice(0, orgs).map((u) => u.o)).size).toBeLessThan(orgs);
    expect(interleaveByOrganization([{ o: 'a' }, { o: 'a' }, { o: 'a' }, { o: 'b' }, { o: 'c' }, { o: 'c' }])).toEqual([0, 3, 4, 1, 5, 2]);
  });

  it("vector-search: bulk vectors are prepared before the run (no random draws in the iteration), and teardown removes this run's rows only", async () => {
    const other = LOADTEST_CHUNK_BASE + 3 * LOADTEST_RUN_SPAN + 5; // a row "another run" wrote
    const { rows: [blk] } = await db.pool.query<{ id: string; organization_id: string }>('SELECT id, organization_id FROM app.blocks LIMIT 1');
    await db.pool.query(`INSERT INTO app.rag_embeddings (organization_id, source_type, source_id, chunk_index, embedding)
      SELECT $1, 'block', $2, $3, embedding FROM loadtest.query_vectors LIMIT 1`, [blk.organization_id, blk.id, other]);
    const loadRows = async () => (await db.pool.query<{ c: number }>('SELECT chunk_index AS c FROM app.rag_embeddings WHERE chunk_index >= $1 ORDER BY 1', [LOADTEST_CHUNK_BASE])).rows.map((r) => r.c);
    const before = await loadRows();
    const m = scripts['vector-search']!;
    const data = m.setup!() as { chunkBase: number };
    expect((data.chunkBase - LOADTEST_CHUNK_BASE) % LOADTEST_RUN_SPAN).toBe(0);
    // Random draws during the iterations: the stand-in's own HTTP call makes a few (its process runner); making 100
    // vectors would take 153,600 (lib/vector-bodies.ts freshVectors, run before k6 starts).
    const { request } = await import('../support/k6/runtime.js');
    const realRandom = Math.random;
    let draws = 0;
    Math.random = () => (draws++, realRandom());
    let perRequest: number;
    try {
      request('GET', `${k6Env.BASE_URL}/health`, null);
      perRequest = draws;
      draws = 0;
      for (let i = 0; i < 3; i++) {
        execution.iterationInTest = i;
        await (m.bulk as (d: unknown) => Promise<void>)(data);
      }
    } finally {
      Math.random = realRandom;
    }
    expect(draws).toBe(3 * perRequest);
    const during = await loadRows();
    const mine = during.filter((c) => c >= data.chunkBase && c < data.chunkBase + LOADTEST_RUN_SPAN);
    expect(mine).toHaveLength(300);
    m.teardown!(data);
    expect(await loadRows()).toEqual(before);
    expect(before).toContain(other);
  });

  it("setup() refuses a service that is down, and a data file the service's database does not match", async () => {
    const load = async (over: Record<string, string>) => {
      vi.resetModules();
      installGlobals({ ...k6Env, ...over });
      try {
        return await k6Script('browse');
      } finally {
        installGlobals(k6Env);
      }
    };
    const down = await load({ BASE_URL: 'http://127.0.0.1:9' });
    expect(() => down.setup!()).toThrow(/setup: the workload service at http:\/\/127\.0\.0\.1:9 is not healthy \(GET \/health -> 0 .*Start it with `npm run service`/);
    const data = JSON.parse(readFileSync(join(work, 'loadtest-data.json'), 'utf8')) as { users: Array<{ t: string }> };
    data.users[0].t = data.users[0].t.slice(0, -4) + (data.users[0].t.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    const forged = join(work, 'forged-data.json');
    writeFileSync(forged, JSON.stringify(data));
    expect(() => scripts.browse!.setup!()).not.toThrow();
    const wrongData = await load({ DATA_FILE: forged });
    expect(() => wrongData.setup!()).toThrow(/refuses the data file's tokens \(401/);
  });

  it('REPORT_DIR must exist when the script starts (k6 does not create it; npm run loadtest does)', async () => {
    vi.resetModules();
    installGlobals({ ...k6Env, REPORT_DIR: join(work, 'missing', 'reports'), PWD: '/' });
    try {
      await expect(k6Script('write-mix')).rejects.toThrow(/REPORT_DIR .*missing\/reports does not exist \(k6 does not create it\): mkdir -p/);
    } finally {
      installGlobals(k6Env);
    }
  });

  it('vector-search refuses to start without its bodies file, or with one too small for BULK_RATE x DURATION', async () => {
    for (const [over, why] of [
      [{ BODIES_FILE: '' }, /BODIES_FILE is not set: .*npm run loadtest -- vector-search.*npm run loadtest:bodies/],
      [{ DURATION: '1m' }, /holds 21 bulk bodies of 100 vectors; BULK_RATE x DURATION needs 61 of 100 vectors: npm run loadtest:bodies -- .*--duration 1m --bulk-rate 1/],
    ] as const) {
      vi.resetModules();
      installGlobals({ ...k6Env, ...over });
      try {
        await expect(k6Script('vector-search')).rejects.toThrow(why);
      } finally {
        installGlobals(k6Env);
      }
    }
  });

  it('every environment variable the scripts read is in the one table of docs/loadtests.md', () => {
    const doc = readFileSync(join(repoRoot, 'docs', 'loadtests.md'), 'utf8');
    const table = doc.slice(doc.indexOf('### Environment variables'));
    const documented = new Set([...table.slice(0, table.indexOf('\n\n', table.indexOf('|'))).matchAll(/^\| `([A-Z_0-9]+)` \|/gm)].map((x) => x[1]));
    const dir = join(repoRoot, 'loadtests', 'k6');
    const sources = [...readdirSync(dir), ...readdirSync(join(dir, 'lib')).map((f) => `lib/${f}`)].filter((f) => f.endsWith('.ts')).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
    const read = new Set([...sources.matchAll(/(?:__ENV\.|env\(|num\()'?([A-Z_0-9]+)/g)].map((x) => x[1]));
    expect([...read].sort()).toEqual([...ENV_VARS].sort());
    expect([...documented].sort()).toEqual([...ENV_VARS].sort());
  });

  it('handleSummary writes the JSON and a JUnit case per threshold, failing the crossed one', () => {
    const summary = {
      state: { testRunDurationMs: 1500 },
      root_group: { name: '', path: '', id: 'd41d8cd98f00b204e9800998ecf8427e', groups: [], checks: [] },
      options: { summaryTrendStats: ['p(95)', 'p(99)', 'count'], summaryTimeUnit: '', noColor: true },
      metrics: {
        http_req_failed: { type: 'rate', contains: 'default', values: { rate: 0, passes: 0, fails: 160 }, thresholds: { [`rate<${targets.errors.max_rate}`]: { ok: true } } },
        'http_req_duration{op:list_projects}': { type: 'trend', values: { 'p(95)': 3.2, 'p(99)': 7.9, count: 120 }, thresholds: { 'p(95)<50': { ok: true }, 'p(99)<100': { ok: true } } },
        'http_req_duration{op:vector_search}': { type: 'trend', values: { 'p(95)': 75, 'p(99)': 90, count: 40 }, thresholds: { 'p(95)<50': { ok: false }, 'p(99)<100': { ok: true } } },
      },
    };
    const out = scripts.browse!.handleSummary(summary);
    expect(Object.keys(out).sort()).toEqual([join(work, 'k6-browse.json'), join(work, 'k6-browse.junit.xml'), join(work, 'k6-browse.txt'), 'stdout'].sort());
    // k6's own text summary (the k6-summary jslib, vendored): every metric with its thresholds marked.
    expect(out.stdout).toMatch(/✗ \{ op:vector_search \}/);
    expect(out.stdout).toMatch(/✓ http_req_failed/);
    expect(out[join(work, 'k6-browse.txt')]).toBe(out.stdout);
    expect(JSON.parse(out[join(work, 'k6-browse.json')])).toEqual(summary);
    const xml = out[join(work, 'k6-browse.junit.xml')];
    expect(xml).toMatch(/<testsuite name="k6 browse" tests="5" failures="1" time="1.500">/);
    expect(xml).toMatch(/<testcase classname="k6 browse" name="http_req_duration\{op:vector_search\} p\(95\)&lt;50"><failure/);
    expect(out.stdout).toMatch(/vector_search\s+75\.0\s+90\.0\s+40\s+FAILED/);
    expect(out.stdout).toMatch(/list_projects\s+3\.2\s+7\.9\s+120\s+ok/);
    expect(out.stdout).toMatch(/error rate 0\.000 %, dropped iterations 0/);
  });
});
