// Write mix: highlights, chat messages (idempotency keys; the database's per-session rate limit may answer
// 429, which is expected), token usage, and reads in between, as one user session would.
import { thresholdsFor, users, pick, summaryTrendStats } from './lib/config.ts';
import { createHighlight, postChatMessage, readEpisode, recordTokenUsage, sessionEmbeddingLookup } from './lib/ops.ts';
import { summaryFor } from './lib/summary.ts';

const OPS = ['create_highlight', 'post_chat_message', 'record_token_usage', 'read_episode', 'session_embedding_lookup'];

export const options = {
  scenarios: {
    writes: {
      executor: 'constant-arrival-rate',
      rate: Number(__ENV.RATE || 100),
      timeUnit: '1s',
      duration: __ENV.DURATION || '2m',
      preAllocatedVUs: 40,
      maxVUs: 300,
    },
  },
  summaryTrendStats,
  thresholds: thresholdsFor(OPS),
};

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
