// Vector search (top-5 within the caller's organization), plus the occasional bulk insert of 100
// embeddings, against the seed 002 targets.
// npm run loadtest -- vector-search   (makes the request bodies, then runs this; environment variables: docs/loadtests.md)
// The request bodies are made before k6 starts (loadtests/lib/vector-bodies.ts) and read from one file that every VU
// shares (BODIES_FILE, k6/experimental/fs), so the measured run spends no k6 CPU making or parsing 1,536-number
// vectors. k6's rules this relies on (https://grafana.com/docs/k6/latest/javascript-api/k6-experimental/fs/open/):
// k6/experimental/fs loads a file once and shares its memory between all VUs, each VU gets its own File handle
// (its own seek position), and open() is awaited in the init context (top-level await, k6 1.x). A SharedArray
// element, by contrast, is handed to the VU as a copy (https://grafana.com/docs/k6/latest/javascript-api/k6-data/sharedarray/),
// which goja parsed again on every read: 743 ms per 1.4 MB bulk body, measured (docs/loadtests.md). Bulk inserts write into this run's own chunk slot, which teardown() deletes: a later run (spike, the
// benchmark) does not search a graph this run grew.
import { open as openFile, SeekMode } from 'k6/experimental/fs';
import exec from 'k6/execution';
import { env, iterationCeiling, num, pick, summaryTrendStats, thresholdsFor, users, vus } from './lib/config.ts';
import { checkServiceAndData, removeRunEmbeddings, runChunkBase } from './lib/lifecycle.ts';
import { bulkInsertEmbeddings, vectorSearchWith } from './lib/ops.ts';
import { assertReportDir, summaryFor } from './lib/summary.ts';
import { bulkBodiesFor, FIRST_CHUNK_FIELD, LOADTEST_RUN_SPAN, type VectorBodiesIndex } from '../lib/workload.ts';

const RATE = num('RATE', 75);
const BULK_RATE = num('BULK_RATE', 1);
const DURATION = env('DURATION') ?? '2m';
const BULK_SIZE = 100;
assertReportDir();

const BODIES_FILE = env('BODIES_FILE');
const MAKE_BODIES = `npm run loadtest:bodies -- --out /tmp/vector-search-bodies --duration ${DURATION} --bulk-rate ${BULK_RATE}, then -e BODIES_FILE=/tmp/vector-search-bodies`;
if (!BODIES_FILE) throw new Error(`BODIES_FILE is not set: vector-search reads its request bodies from a file made before the run. \`npm run loadtest -- vector-search\` makes it; by hand: ${MAKE_BODIES}`);
const index = JSON.parse(open(`${BODIES_FILE}.json`)) as VectorBodiesIndex;
// One bulk body per bulk iteration the run can start; iteration i inserts body i into the block of its user.
const bulkCount = bulkBodiesFor(BULK_RATE, DURATION);
if (bulkCount * BULK_SIZE > LOADTEST_RUN_SPAN) throw new Error(`BULK_RATE x DURATION asks for ${bulkCount} bulk inserts; a run's chunk slot holds ${LOADTEST_RUN_SPAN / BULK_SIZE}`);
if (index.bulkSize !== BULK_SIZE || index.bulk.length < bulkCount) {
  throw new Error(`${BODIES_FILE} holds ${index.bulk.length} bulk bodies of ${index.bulkSize} vectors; BULK_RATE x DURATION needs ${bulkCount} of ${BULK_SIZE} vectors: ${MAKE_BODIES}`);
}
const bodies = await openFile(BODIES_FILE);

/** Body `[at, len]` of the bodies file, read into a buffer of its own (each VU has its own file position). */
async function body([at, len]: readonly number[]): Promise<Uint8Array> {
  const b = new Uint8Array(len);
  await bodies.seek(at, SeekMode.Start);
  const n = await bodies.read(b);
  if (n !== len) throw new Error(`${BODIES_FILE}: read ${n} of ${len} bytes at ${at}: the file does not match its index`);
  return b;
}

export const options = {
  scenarios: {
    search: {
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: DURATION,
      ...vus(RATE, iterationCeiling({ vector_search: 1 })),
      exec: 'search',
    },
    bulk: {
      executor: 'constant-arrival-rate',
      rate: BULK_RATE,
      timeUnit: '1s',
      duration: DURATION,
      ...vus(BULK_RATE, iterationCeiling({ bulk_insert_embeddings: 1 })),
      exec: 'bulk',
    },
  },
  summaryTrendStats,
  thresholds: thresholdsFor(['vector_search', 'bulk_insert_embeddings']),
};

export function setup(): { chunkBase: number } {
  checkServiceAndData({ vectors: true });
  return { chunkBase: runChunkBase() };
}

export async function search() {
  const u = pick(users);
  vectorSearchWith(u, (await body(index.search[pick(u.tp)])).buffer as ArrayBuffer);
}

export async function bulk(data: { chunkBase: number }) {
  const i = exec.scenario.iterationInTest;
  if (i >= bulkCount) throw new Error(`bulk iteration ${i} has no prepared body (${bulkCount} made for BULK_RATE x DURATION)`);
  const [at, len, user] = index.bulk[i];
  const b = await body([at, len]);
  // The run's chunk slot is known only now (setup()): written over the body's placeholder, right-aligned.
  const first = String(data.chunkBase + i * BULK_SIZE).padStart(FIRST_CHUNK_FIELD, ' ');
  for (let k = 0; k < FIRST_CHUNK_FIELD; k++) b[len - 1 - FIRST_CHUNK_FIELD + k] = first.charCodeAt(k);
  bulkInsertEmbeddings(users[user], b.buffer as ArrayBuffer);
}

export function teardown(data: { chunkBase: number }) {
  removeRunEmbeddings(data.chunkBase);
}

export const handleSummary = summaryFor('vector-search');
