// Write mix: highlights, chat messages (idempotency keys; the database's per-session rate limit may answer
// 429, which is expected), token usage, and reads in between, as one user session would.
// k6 run loadtests/k6/write-mix.ts   (environment variables: docs/loadtests.md)
import { env, iterationCeiling, num, pick, summaryTrendStats, thresholdsFor, users, vus } from './lib/config.ts';
import { checkServiceAndData } from './lib/lifecycle.ts';
import { createHighlight, postChatMessage, readEpisode, recordTokenUsage, sessionEmbeddingLookup } from './lib/ops.ts';
import { assertReportDir, summaryFor } from './lib/summary.ts';

const OPS = ['create_highlight', 'post_chat_message', 'record_token_usage', 'read_episode', 'session_embedding_lookup'];
const RATE = num('RATE', 80);
assertReportDir();

export const options = {
  scenarios: {
    writes: {
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: env('DURATION') ?? '2m',
      ...vus(RATE, iterationCeiling({ create_highlight: 0.3, post_chat_message: 0.3, record_token_usage: 0.2, session_embedding_lookup: 0.1, read_episode: 0.1 })),
    },
  },
  summaryTrendStats,
  thresholds: thresholdsFor(OPS),
};

export function setup() {
  checkServiceAndData();
}

export default function () {
  const u = pick(users);
  const x = Math.random();
  if (x < 0.3) createHighlight(u);
  else if (x < 0.6) postChatMessage(u);
  else if (x < 0.8) recordTokenUsage(u);
  else if (x < 0.9) sessionEmbeddingLookup(u);
  else readEpisode(u);
}

export const handleSummary = summaryFor('write-mix');
