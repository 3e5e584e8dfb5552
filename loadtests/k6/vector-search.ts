// Vector search (top-5 within the caller's organization), plus the occasional bulk insert of 100
// embeddings, against the seed 002 targets.
import { pick, thresholdsFor, users, summaryTrendStats } from './lib/config.ts';
import { bulkInsertEmbeddings, vectorSearch } from './lib/ops.ts';
import { summaryFor } from './lib/summary.ts';

export const options = {
  scenarios: {
    search: {
      executor: 'constant-arrival-rate',
      rate: Number(__ENV.RATE || 100),
      timeUnit: '1s',
      duration: __ENV.DURATION || '2m',
      preAllocatedVUs: 30,
      maxVUs: 200,
      exec: 'search',
    },
    bulk: {
      executor: 'constant-arrival-rate',
      rate: Number(__ENV.BULK_RATE || 1),
      timeUnit: '1s',
      duration: __ENV.DURATION || '2m',
      preAllocatedVUs: 2,
      maxVUs: 10,
      exec: 'bulk',
    },
  },
  summaryTrendStats,
  thresholds: thresholdsFor(['vector_search', 'bulk_insert_embeddings']),
};

export function search() {
  vectorSearch(pick(users));
}

export function bulk() {
  bulkInsertEmbeddings(pick(users));
}

export const handleSummary = summaryFor('vector-search');
