// Queue workers: many workers claiming due items with SKIP LOCKED and completing them (no item is handed
// out twice: a second completion would be a 409 and fail the checks).
import exec from 'k6/execution';
import { thresholdsFor, workerToken, summaryTrendStats } from './lib/config.ts';
import { claimAndComplete } from './lib/ops.ts';
import { summaryFor } from './lib/summary.ts';

export const options = {
  scenarios: {
    workers: {
      executor: 'constant-arrival-rate',
      rate: Number(__ENV.RATE || 50),
      timeUnit: '1s',
      duration: __ENV.DURATION || '1m',
      preAllocatedVUs: 20,
      maxVUs: 100,
    },
  },
  summaryTrendStats,
  thresholds: thresholdsFor(['claim_queue_item', 'complete_queue_item']),
};

export default function () {
  claimAndComplete(workerToken, `k6-worker-${exec.vu.idInTest}`);
}

export const handleSummary = summaryFor('queue-workers');
