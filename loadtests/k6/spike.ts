// Spike: a steady read load jumps 5x for 30 s and falls back; the targets must hold through the spike and
// the error rate must stay under the ceiling (PgBouncer queues, nothing fails).
import { pick, thresholdsFor, users, summaryTrendStats } from './lib/config.ts';
import { listEpisodes, readEpisode, vectorSearch, postChatMessage } from './lib/ops.ts';
import { summaryFor } from './lib/summary.ts';

const BASE = Number(__ENV.RATE || 100);

export const options = {
  scenarios: {
    spike: {
      executor: 'ramping-arrival-rate',
      startRate: BASE,
      timeUnit: '1s',
      preAllocatedVUs: 100,
      maxVUs: 1000,
      stages: [
        { target: BASE, duration: '30s' },
        { target: BASE * 5, duration: '10s' },
        { target: BASE * 5, duration: '30s' },
        { target: BASE, duration: '10s' },
        { target: BASE, duration: '30s' },
      ],
    },
  },
  summaryTrendStats,
  thresholds: thresholdsFor(['list_episodes', 'read_episode', 'vector_search', 'post_chat_message']),
};

export default function () {
  const u = pick(users);
  const x = Math.random();
  if (x < 0.4) readEpisode(u);
  else if (x < 0.7) listEpisodes(u);
  else if (x < 0.9) vectorSearch(u);
  else postChatMessage(u);
}

export const handleSummary = summaryFor('spike');
