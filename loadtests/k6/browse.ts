// Browse: 10k distinct users reading (list projects, list episodes, read an episode, template lookup).
// Each iteration is one user, chosen round-robin over the whole data set so every user reads.
// k6 run loadtests/k6/browse.ts   (RATE, DURATION env override the arrival rate and length)
import exec from 'k6/execution';
import { thresholdsFor, users, summaryTrendStats } from './lib/config.ts';
import { listEpisodes, listProjects, readEpisode, templateLookup } from './lib/ops.ts';
import { summaryFor } from './lib/summary.ts';
import { BROWSE_OPS } from '../lib/workload.ts';

const OPS = [...BROWSE_OPS];

export const options = {
  scenarios: {
    browse: {
      executor: 'constant-arrival-rate',
      rate: Number(__ENV.RATE || 200),
      timeUnit: '1s',
      duration: __ENV.DURATION || '2m',
      preAllocatedVUs: 50,
      maxVUs: 400,
    },
  },
  summaryTrendStats,
  thresholds: thresholdsFor(OPS),
};

export default function () {
  const u = users[exec.scenario.iterationInTest % users.length];
  listProjects(u);
  listEpisodes(u);
  readEpisode(u);
  if (exec.scenario.iterationInTest % 4 === 0) templateLookup(u);
}

export const handleSummary = summaryFor('browse');
