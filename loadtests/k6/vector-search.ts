// Vector search (top-5 within the caller's organization), plus the occasional bulk insert of 100
// embeddings, against the seed 002 targets.
// k6 run loadtests/k6/vector-search.ts   (environment variables: docs/loadtests.md)
// The bulk inserts' vectors are made before the test starts (init context, once) and written into this run's own
// chunk slot, which teardown() deletes: a later run (spike, the benchmark) does not search a graph this run grew.
import exec from 'k6/execution';
import { SharedArray } from 'k6/data';
import { env, iterationCeiling, num, pick, seconds, spreadUser, summaryTrendStats, thresholdsFor, users, vus } from './lib/config.ts';
import { checkServiceAndData, removeRunEmbeddings, runChunkBase } from './lib/lifecycle.ts';
import { bulkInsertEmbeddings, vectorSearch, vectorsJson } from './lib/ops.ts';
import { assertReportDir, summaryFor } from './lib/summary.ts';
import { LOADTEST_RUN_SPAN } from '../lib/workload.ts';

const RATE = num('RATE', 100);
const BULK_RATE = num('BULK_RATE', 1);
const DURATION = env('DURATION') ?? '2m';
const BULK_SIZE = 100;
assertReportDir();

// One body per bulk iteration the run can start (rate x duration, and one more), each of fresh vectors near its
// user's topics. Iteration i inserts body i into the block of spreadUser(i).
const bulkCount = Math.ceil(BULK_RATE * seconds(DURATION)) + 1;
if (bulkCount * BULK_SIZE > LOADTEST_RUN_SPAN) throw new Error(`BULK_RATE x DURATION asks for ${bulkCount} bulk inserts; a run's chunk slot holds ${LOADTEST_RUN_SPAN / BULK_SIZE}`);
const bulkBodies = new SharedArray<string>('bulkBodies', () => {
  const out: string[] = [];
  for (let i = 0; i < bulkCount; i++) out.push(vectorsJson(spreadUser(i).tp, BULK_SIZE));
  return out;
});

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

export function search() {
  vectorSearch(pick(users));
}

export function bulk(data: { chunkBase: number }) {
  const i = exec.scenario.iterationInTest;
  if (i >= bulkCount) throw new Error(`bulk iteration ${i} has no prepared body (${bulkCount} made for BULK_RATE x DURATION)`);
  bulkInsertEmbeddings(spreadUser(i), bulkBodies[i], data.chunkBase + i * BULK_SIZE);
}

export function teardown(data: { chunkBase: number }) {
  removeRunEmbeddings(data.chunkBase);
}

export const handleSummary = summaryFor('vector-search');
