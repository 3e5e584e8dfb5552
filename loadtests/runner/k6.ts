// Runs one k6 scenario (loadtests/k6/<scenario>.ts) as `npm run loadtest` and `npm run loadtest:capacity` do: the
// report folder created first (k6 does not create folders), k6's HTML report exported beside the summaries without
// starting its web server (K6_WEB_DASHBOARD_PORT=-1: no port taken on a shared box), the output kept in
// k6-<scenario>.log. Needs a real k6 on PATH (or K6 / --k6): the test suite never runs this.
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { repoRoot } from '../../src/config.js';
import { run } from '../../src/proc/run.js';
import pg from 'pg';
import { defaultDataFile, endpoints } from '../lib/local.js';
import { ensureFreshVectorIndex } from '../lib/vector-index.js';
import { writeVectorBodies } from '../lib/vector-bodies.js';
import { bulkBodiesFor } from '../lib/workload.js';

/** Every scenario, in the order a full run takes them: vector-search last, as it writes (and teardown deletes) embeddings. */
export const SCENARIOS = ['browse', 'write-mix', 'queue-workers', 'spike', 'vector-search'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** The scripts' default arrival rates (RATE), as in loadtests/k6/<scenario>.ts; spike's is its base rate (peak 5x). */
// From the capacity measurement of 2026-12-06 (reports/capacity-2026-12-06.md, 30 s steps) on the reference box (k6,
// the service and the stack on one 2-core VM), with room for a 2-minute run's tail: browse 85 (capacity 100), write-mix
// 80 (113; a 2-minute run at 95 crossed a p99), queue-workers 40 (47), each of which passed a 2-minute run at that
// rate with 0 dropped iterations (reports/loadtest-2026-12-06/ and -afternoon/); spike 25 as its base rate (36 at
// 16:08; at 30 one afternoon run failed); vector-search 75 with the bulk insert at 1/s (88 at 15:26, after sql/1009 and
// the bulk body's worker thread; the issue's goal of 100 is beyond this box: docs/loadtests.md, "Capacity at the SLO").
export const DEFAULT_RATES: Record<ScenarioName, number> = { browse: 85, 'write-mix': 80, 'queue-workers': 40, spike: 25, 'vector-search': 75 };

/** k6's exit codes (go.k6.io/k6/errext/exitcodes): 99 thresholds crossed; others mean the run itself failed. */
export const K6_THRESHOLDS_FAILED = 99;

export interface K6RunOptions {
  k6?: string;
  rate?: number;
  duration?: string;
  reportDir: string;
  baseUrl?: string;
  /** More environment for k6 (-e KEY=VALUE), e.g. BULK_RATE. */
  env?: Record<string, string>;
  /**
   * Before a scenario that searches vectors, rebuild the HNSW graph when earlier runs wrote to it
   * (lib/vector-index.ts), through this operator connection (default: the loader of `endpoints()`, i.e. the local
   * stack or DATABASE_URL / LOADER_DATABASE_URL). false: measure the graph as it is (a service whose database this
   * host cannot reach); the report then says so.
   */
  freshVectorIndex?: false | { url?: string };
}

/** The scenarios whose figures depend on the state of the HNSW graph (they search it, or write and delete in it). */
export const VECTOR_SCENARIOS: readonly ScenarioName[] = ['spike', 'vector-search'];

export interface K6RunResult {
  scenario: ScenarioName;
  code: number;
  /** Every threshold held (exit 0). */
  passed: boolean;
  /** Thresholds crossed (exit 99): a measurement, not a broken run. */
  thresholdsFailed: boolean;
  /** The thresholds that failed, from k6-<scenario>.json. */
  failedThresholds: string[];
  droppedIterations: number;
  seconds: number;
  output: string;
  /** What was done to the HNSW graph before the run (VECTOR_SCENARIOS only), for the report. */
  vectorIndex: string | null;
}

export function parseScenarios(arg: string): ScenarioName[] {
  if (arg === 'all') return [...SCENARIOS];
  const names = arg.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!(SCENARIOS as readonly string[]).includes(n)) throw new Error(`no scenario '${n}': expected all or a comma-separated list of ${SCENARIOS.join(', ')}`);
  }
  if (names.length === 0) throw new Error(`no scenario given: expected all or a comma-separated list of ${SCENARIOS.join(', ')}`);
  return names as ScenarioName[];
}

/** The k6 command line and environment for one run (exported for the workflow test). */
export function k6Invocation(scenario: ScenarioName, o: K6RunOptions): { args: string[]; env: Record<string, string> } {
  const dir = resolve(o.reportDir);
  const e: Record<string, string> = { REPORT_DIR: dir, ...(o.rate ? { RATE: String(o.rate) } : {}), ...(o.duration ? { DURATION: o.duration } : {}), ...(o.baseUrl ? { BASE_URL: o.baseUrl } : {}), ...o.env };
  const args = ['run', '--quiet', ...Object.entries(e).flatMap(([k, v]) => ['-e', `${k}=${v}`]), join(repoRoot, 'loadtests', 'k6', `${scenario}.ts`)];
  // The report needs two or more snapshots (xk6-dashboard report.go: "The test run was short, report generation was
  // skipped"); one every 5 s (default 10 s) gives short capacity steps and 30 s pull-request runs a report.
  return { args, env: { K6_WEB_DASHBOARD: 'true', K6_WEB_DASHBOARD_PORT: '-1', K6_WEB_DASHBOARD_PERIOD: '5s', K6_WEB_DASHBOARD_EXPORT: join(dir, `k6-${scenario}.html`), K6_NO_USAGE_REPORT: 'true' } };
}

async function prepareVectorIndex(scenario: ScenarioName, o: K6RunOptions): Promise<string | null> {
  if (!VECTOR_SCENARIOS.includes(scenario)) return null;
  if (o.freshVectorIndex === false) return 'measured on the HNSW graph as it was (--keep-vector-index): earlier runs may have left dead elements in it';
  const c = new pg.Client({ connectionString: o.freshVectorIndex?.url ?? endpoints().loaderDirect, application_name: 'pgkit-loadtest-prepare' });
  try {
    await c.connect();
  } catch (e) {
    throw new Error(`cannot reach the database to check the HNSW graph before ${scenario} (${(e as Error).message}): ` +
      'start the stack (npm start) or set DATABASE_URL, or pass --keep-vector-index to measure the graph as it is');
  }
  try {
    const r = await ensureFreshVectorIndex(c, (l) => console.log(`[loadtest] ${l}`));
    return r.rebuilt ? `HNSW graph rebuilt before the run (${r.reason}; ${r.seconds.toFixed(0)} s)` : r.reason;
  } finally {
    await c.end();
  }
}

export async function runK6(scenario: ScenarioName, o: K6RunOptions): Promise<K6RunResult> {
  const dir = resolve(o.reportDir);
  mkdirSync(dir, { recursive: true });
  const vectorIndex = await prepareVectorIndex(scenario, o);
  // vector-search reads its request bodies from a file made here, sized to the run (lib/vector-bodies.ts), unless given one.
  const bodies = scenario === 'vector-search' && !o.env?.BODIES_FILE ? join(dir, 'k6-vector-search-bodies') : null;
  if (bodies) {
    const dataFile = o.env?.DATA_FILE ?? process.env.DATA_FILE ?? defaultDataFile;
    writeVectorBodies({ dataFile, out: bodies, bulkCount: bulkBodiesFor(Number(o.env?.BULK_RATE ?? 1), o.duration ?? '2m') });
  }
  const { args, env } = k6Invocation(scenario, bodies ? { ...o, env: { ...o.env, BODIES_FILE: bodies } } : o);
  const t0 = performance.now();
  const r = await run(o.k6 ?? process.env.K6 ?? 'k6', args, { cwd: repoRoot, env })
    .catch((e: Error) => {
      throw new Error(`could not start k6 (${e.message}): install k6 1.x (docs/loadtests.md) or pass its path with --k6 / K6`);
    })
    .finally(() => {
      if (bodies) for (const f of [bodies, `${bodies}.json`]) rmSync(f, { force: true });
    });
  const output = `${vectorIndex ? `[loadtest] ${vectorIndex}\n` : ''}${r.stdout}${r.stderr}`;
  writeFileSync(join(dir, `k6-${scenario}.log`), output);
  const summaryFile = join(dir, `k6-${scenario}.json`);
  const failedThresholds: string[] = [];
  let droppedIterations = 0;
  if (existsSync(summaryFile) && r.code !== 107) {
    const s = JSON.parse(readFileSync(summaryFile, 'utf8')) as { metrics: Record<string, { values: Record<string, number>; thresholds?: Record<string, { ok: boolean }> }> };
    for (const [m, v] of Object.entries(s.metrics)) for (const [t, x] of Object.entries(v.thresholds ?? {})) if (!x.ok) failedThresholds.push(`${m} ${t}`);
    droppedIterations = s.metrics.dropped_iterations?.values.count ?? 0;
  }
  return { scenario, code: r.code, passed: r.code === 0, thresholdsFailed: r.code === K6_THRESHOLDS_FAILED, failedThresholds, droppedIterations, seconds: (performance.now() - t0) / 1000, output, vectorIndex };
}
