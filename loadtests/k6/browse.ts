// Browse: 10k distinct users reading (list projects, list episodes, read an episode, template lookup).
// Each iteration is one user, walking the users interleaved by organization (lib/config.ts spreadOrder), so every
// user reads and every organization is reached from the first second.
// k6 run loadtests/k6/browse.ts   (environment variables: docs/loadtests.md)
import exec from 'k6/execution';
import { env, iterationCeiling, num, spreadUser, summaryTrendStats, thresholdsFor, vus } from './lib/config.ts';
import { checkServiceAndData } from './lib/lifecycle.ts';
import { listEpisodes, listProjects, readEpisode, templateLookup } from './lib/ops.ts';
import { assertReportDir, summaryFor } from './lib/summary.ts';
import { BROWSE_OPS } from '../lib/workload.ts';

const OPS = [...BROWSE_OPS];
const RATE = num('RATE', 85);
assertReportDir();

export const options = {
  scenarios: {
    browse: {
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: env('DURATION') ?? '2m',
      ...vus(RATE, iterationCeiling({ list_projects: 1, list_episodes: 1, read_episode: 1, template_lookup: 0.25 })),
    },
  },
  summaryTrendStats,
  thresholds: thresholdsFor(OPS),
};

export function setup() {
  checkServiceAndData();
}

export default function () {
  const i = exec.scenario.iterationInTest;
  const u = spreadUser(i);
  listProjects(u);
  listEpisodes(u);
  readEpisode(u);
  if (i % 4 === 0) templateLookup(u);
}

export const handleSummary = summaryFor('browse');
