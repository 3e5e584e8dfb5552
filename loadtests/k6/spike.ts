// Spike: a steady read load jumps 5x for 30 s and falls back; the targets must hold through the spike and
// the error rate must stay under the ceiling (PgBouncer queues, nothing fails).
// k6 run loadtests/k6/spike.ts   (environment variables: docs/loadtests.md; RATE is the base rate)
import { iterationCeiling, num, pick, summaryTrendStats, thresholdsFor, users, vus } from './lib/config.ts';
import { checkServiceAndData } from './lib/lifecycle.ts';
import { listEpisodes, readEpisode, vectorSearch, postChatMessage } from './lib/ops.ts';
import { assertReportDir, summaryFor } from './lib/summary.ts';

const BASE = num('RATE', 25);
assertReportDir();

export const options = {
  scenarios: {
    spike: {
      executor: 'ramping-arrival-rate',
      startRate: BASE,
      timeUnit: '1s',
      // Sized for the peak (5x): VUs initialized mid-spike would take CPU from what is being measured.
      ...vus(BASE * 5, iterationCeiling({ read_episode: 0.4, list_episodes: 0.3, vector_search: 0.2, post_chat_message: 0.1 })),
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

export function setup() {
  checkServiceAndData({ vectors: true });
}

export default function () {
  const u = pick(users);
  const x = Math.random();
  if (x < 0.4) readEpisode(u);
  else if (x < 0.7) listEpisodes(u);
  else if (x < 0.9) vectorSearch(u);
  else postChatMessage(u);
}

export const handleSummary = summaryFor('spike');
