// Queue workers: many workers claiming due items with SKIP LOCKED and completing them (no item is handed
// out twice: a second completion would be a 409 and fail the checks).
// k6 run loadtests/k6/queue-workers.ts   (environment variables: docs/loadtests.md)
import exec from 'k6/execution';
import { env, iterationCeiling, num, summaryTrendStats, thresholdsFor, vus, workerToken } from './lib/config.ts';
import { checkServiceAndData } from './lib/lifecycle.ts';
import { claimAndComplete } from './lib/ops.ts';
import { assertReportDir, summaryFor } from './lib/summary.ts';

const RATE = num('RATE', 40);
assertReportDir();

export const options = {
  scenarios: {
    workers: {
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: env('DURATION') ?? '1m',
      ...vus(RATE, iterationCeiling({ claim_queue_item: 1, complete_queue_item: 1 })),
    },
  },
  summaryTrendStats,
  thresholds: thresholdsFor(['claim_queue_item', 'complete_queue_item']),
};

export function setup() {
  checkServiceAndData({ queue: true });
}

export default function () {
  claimAndComplete(workerToken, `k6-worker-${exec.vu.idInTest}`);
}

export const handleSummary = summaryFor('queue-workers');
