// Shared by every scenario: the service URL, the test data (SharedArray: parsed once, shared read-only by
// all VUs), the executors' sizes and thresholds built from the one targets file (loadtests/targets.json).
// Every environment variable the scripts read is in docs/loadtests.md ("Environment variables"); `ENV_VARS` below
// is the list a test holds that table to.
import { SharedArray } from 'k6/data';
import { interleaveByOrganization, seconds } from '../../lib/workload.ts';

export { interleaveByOrganization, seconds };

/** Every __ENV key the k6 scripts read (docs/loadtests.md lists each; test/loadtests/k6-scripts.test.ts checks). */
export const ENV_VARS = ['BASE_URL', 'DATA_FILE', 'TARGETS_FILE', 'REPORT_DIR', 'RATE', 'DURATION', 'BULK_RATE', 'BODIES_FILE', 'PRE_VUS', 'MAX_VUS', 'ABORT_DELAY', 'PWD'] as const;
type EnvVar = (typeof ENV_VARS)[number];
export const env = (k: EnvVar): string | undefined => __ENV[k] || undefined;

export const BASE_URL = env('BASE_URL') ?? 'http://127.0.0.1:8080';
// A relative open() is resolved against the entry script, not this lib (grafana/k6#3857); import.meta.resolve
// makes both paths relative to this file, whoever imports it (open() takes its file:// URL since k6 0.57, #4513).
declare global {
  interface ImportMeta {
    resolve(specifier: string): string;
  }
}
const DATA_FILE = env('DATA_FILE') ?? import.meta.resolve('../../data/loadtest-data.json');
const TARGETS_FILE = env('TARGETS_FILE') ?? import.meta.resolve('../../targets.json');

export interface LoadUser {
  u: string; // user id
  o: string; // organization id
  t: string; // bearer token
  p: string[]; // project ids of the organization (up to 5)
  e: string[]; // episode ids (up to 8)
  ep: string; // an episode with blocks
  b: string; // a block of that episode
  s: string; // an open chat session of this user
  tp: number[]; // the organization's topics (query vectors are per topic)
  f: string; // a template focus
}

interface TargetFile {
  operations: Record<string, { seed_p95_ms: number; goal_p95_ms: number; p99_ms: number }>;
  errors: { max_rate: number };
}

export const targets: TargetFile = JSON.parse(open(TARGETS_FILE));

interface DataFile {
  users: LoadUser[];
  queryVectors: number[][];
  workerToken: string;
}
// The SharedArray callbacks run once, in the first VU's init context, one after the other: parse the (large)
// data file once for all of them.
let parsed: DataFile | null = null;
const data = (): DataFile => (parsed ??= JSON.parse(open(DATA_FILE)) as DataFile);

export const users = new SharedArray<LoadUser>('users', () => data().users);
export const queryVectors = new SharedArray<number[]>('queryVectors', () => data().queryVectors);

/**
 * A query vector as JSON text, kept per VU (each VU has its own JavaScript runtime; at most one string of ~14 KB per
 * topic, 200 topics). Every read of a SharedArray element is a copy made by parsing it, and a search that read
 * queryVectors[t] and stringified it again spent ~16 ms of k6 time per request on this project's loaded 2-core box
 * (a SharedArray of JSON strings was slower still); cached, the body is built once per topic per VU.
 */
const vectorJsonCache = new Map<number, string>();
export function queryVectorJson(topic: number): string {
  let s = vectorJsonCache.get(topic);
  if (s === undefined) vectorJsonCache.set(topic, (s = JSON.stringify(queryVectors[topic])));
  return s;
}
export const workerToken: string = new SharedArray<string>('worker', () => [data().workerToken])[0];

/**
 * Indexes into `users`, interleaved by organization: one user of each organization, then a second user of each
 * organization that has one, and so on. The data file lists users organization by organization (at full scale the
 * first 3,001 users belong to 7 of 1,000 organizations); walking this order instead, the first N iterations touch
 * min(N, organizations) organizations, so the load is spread across tenants from the first second.
 */
export const spreadOrder = new SharedArray<number>('spreadOrder', () => interleaveByOrganization(data().users));

/** The i-th user of the spread order (wraps around). */
export const spreadUser = (i: number): LoadUser => users[spreadOrder[i % spreadOrder.length]];

/** Trend statistics in the end-of-test summary: p(99) and count too, which the thresholds and handleSummary use. */
export const summaryTrendStats = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)', 'count'];

/** A positive number from the environment, or the default; anything else is refused with the variable's name. */
export function num(k: EnvVar, dflt: number): number {
  const v = env(k);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${k}=${v} is not valid: expected a positive number`);
  return n;
}

/**
 * VUs for an arrival-rate executor. k6 starts an iteration only on a free VU: too few and iterations are dropped
 * (counted in dropped_iterations), and VUs beyond preAllocatedVUs are initialized mid-run, which costs CPU while
 * measuring. Pre-allocated: the rate times an iteration's duration when every request takes its p99 ceiling, plus
 * 50%; the cap is four times that. PRE_VUS and MAX_VUS override both.
 */
export function vus(rate: number, iterationSeconds: number): { preAllocatedVUs: number; maxVUs: number } {
  const pre = Math.ceil(num('PRE_VUS', Math.max(2, Math.ceil(rate * iterationSeconds * 1.5))));
  return { preAllocatedVUs: pre, maxVUs: Math.ceil(num('MAX_VUS', Math.max(pre * 4, 10))) };
}

/** Seconds an iteration takes when each of its requests takes its p99 ceiling (requests: op -> mean count per iteration). */
export function iterationCeiling(requests: Record<string, number>): number {
  let ms = 0;
  for (const [op, n] of Object.entries(requests)) ms += n * targetOf(op).p99_ms;
  return ms / 1000;
}

function targetOf(op: string) {
  const t = targets.operations[op];
  if (!t) throw new Error(`targets.json has no operation ${op}`);
  return t;
}

/** A hopeless run stops early: this many times a p95 target, or this error rate, after ABORT_DELAY. */
export const ABORT_P95_FACTOR = 10;
export const ABORT_ERROR_RATE = 0.1;

type Threshold = string | { threshold: string; abortOnFail: boolean; delayAbortEval: string };

/**
 * Thresholds for `options.thresholds`, so that a run fails when it should:
 * - p95 / p99 per operation tag (the seeds' targets) and the error-rate and checks ceilings;
 * - `http_reqs{op:X}` count>0: an operation that never ran fails (k6 passes a latency threshold with no samples,
 *   showing p(95)=0s);
 * - `dropped_iterations` count==0: an arrival rate k6 could not send fails the run (unsent load is no result);
 * - abortOnFail with delayAbortEval (ABORT_DELAY, default 30s) for hopeless runs: an error rate above 10% or an
 *   operation's p95 above ten times its target stops the run.
 */
export function thresholdsFor(ops: string[]): Record<string, Threshold[]> {
  const delay = env('ABORT_DELAY') ?? '30s';
  seconds(delay);
  const abort = (threshold: string): Threshold => ({ threshold, abortOnFail: true, delayAbortEval: delay });
  const th: Record<string, Threshold[]> = {
    http_req_failed: [`rate<${targets.errors.max_rate}`, abort(`rate<${ABORT_ERROR_RATE}`)],
    checks: [`rate>${1 - targets.errors.max_rate}`],
    dropped_iterations: ['count==0'],
  };
  for (const op of ops) {
    const t = targetOf(op);
    th[`http_req_duration{op:${op}}`] = [`p(95)<${t.seed_p95_ms}`, `p(99)<${t.p99_ms}`, abort(`p(95)<${t.seed_p95_ms * ABORT_P95_FACTOR}`)];
    th[`http_reqs{op:${op}}`] = ['count>0'];
  }
  return th;
}

export function pick<T>(xs: ArrayLike<T>): T {
  return xs[Math.floor(Math.random() * xs.length)];
}

/** A random RFC 4122 version-4 uuid (idempotency keys). */
export function uuid4(): string {
  const h = '0123456789abcdef';
  let s = '';
  for (let i = 0; i < 36; i++) {
    if (i === 8 || i === 13 || i === 18 || i === 23) s += '-';
    else if (i === 14) s += '4';
    else if (i === 19) s += h[8 + Math.floor(Math.random() * 4)];
    else s += h[Math.floor(Math.random() * 16)];
  }
  return s;
}
