// Shared by every scenario: the service URL, the test data (SharedArray: parsed once, shared read-only by
// all VUs), and thresholds built from the one targets file (loadtests/targets.json).
import { SharedArray } from 'k6/data';

export const BASE_URL = __ENV.BASE_URL || 'http://127.0.0.1:8080';
// A relative open() is resolved against the entry script, not this lib (grafana/k6#3857); import.meta.resolve
// makes both paths relative to this file, whoever imports it (open() takes its file:// URL since k6 0.57, #4513).
declare global {
  interface ImportMeta {
    resolve(specifier: string): string;
  }
}
const DATA_FILE = __ENV.DATA_FILE || import.meta.resolve('../../data/loadtest-data.json');
const TARGETS_FILE = __ENV.TARGETS_FILE || import.meta.resolve('../../targets.json');

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
// data file once for all three.
let parsed: DataFile | null = null;
const data = (): DataFile => (parsed ??= JSON.parse(open(DATA_FILE)) as DataFile);

export const users = new SharedArray<LoadUser>('users', () => data().users);
export const queryVectors = new SharedArray<number[]>('queryVectors', () => data().queryVectors);
export const workerToken: string = new SharedArray<string>('worker', () => [data().workerToken])[0];

/** Trend statistics in the end-of-test summary: p(99) and count too, which the thresholds and handleSummary use. */
export const summaryTrendStats = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)', 'count'];

/** p95 / p99 per operation tag (the seeds' targets) and the error-rate ceiling, for `options.thresholds`. */
export function thresholdsFor(ops: string[]): Record<string, string[]> {
  const th: Record<string, string[]> = {
    http_req_failed: [`rate<${targets.errors.max_rate}`],
    checks: [`rate>${1 - targets.errors.max_rate}`],
  };
  for (const op of ops) {
    const t = targets.operations[op];
    if (!t) throw new Error(`targets.json has no operation ${op}`);
    th[`http_req_duration{op:${op}}`] = [`p(95)<${t.seed_p95_ms}`, `p(99)<${t.p99_ms}`];
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
