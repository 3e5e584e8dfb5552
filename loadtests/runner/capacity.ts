#!/usr/bin/env -S npx tsx
// `npm run loadtest:capacity -- [all|scenario,...] [--step-duration 30s] [--min 1] [--max 2000] [--precision 0.1]
//   [--start N] [--report-dir reports] [--label TEXT] [--base-url URL] [--k6 PATH]`
// For each scenario, the highest arrival rate at which every threshold still holds (latency targets, error rate,
// checks, zero dropped iterations, every operation sent), found with short stepped runs: from the script's default
// rate, doubling while it passes or halving while it fails, then bisecting between the highest passing and the
// lowest failing rate until they are within --precision of each other. Writes reports/capacity-<date>.json and
// .md beside the DB-level benchmark's reports. A figure is only as good as the machine was quiet: the report
// records the load average before and after each scenario, and --label says where it was taken.
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/proc/run.js';
import { fail } from '../../scripts/lib/fail.js';
import { DEFAULT_RATES, parseScenarios, runK6, SCENARIOS, type K6RunResult, type ScenarioName } from './k6.js';

export interface Step {
  rate: number;
  passed: boolean;
  failedThresholds: string[];
  droppedIterations: number;
  /** spike and vector-search: what was done to the HNSW graph before the step (lib/vector-index.ts). */
  vectorIndex?: string | null;
}

export interface SearchOptions {
  start: number;
  min: number;
  max: number;
  /** Stop when the failing rate is within this fraction of the passing one (and at least 1/s apart). */
  precision: number;
}

export interface SearchResult {
  /** Highest rate that passed; null when even `min` failed. */
  capacity: number | null;
  /** Lowest rate that failed; null when `max` passed (the capacity is at least `max`). */
  firstFailing: number | null;
  steps: Step[];
}

/** The stepped search, independent of k6 (`tryRate` runs one step). */
export async function findCapacity(tryRate: (rate: number) => Promise<Step>, o: SearchOptions): Promise<SearchResult> {
  if (!(o.min > 0 && o.min <= o.start && o.start <= o.max)) throw new Error(`capacity search needs 0 < min <= start <= max (got ${o.min}, ${o.start}, ${o.max})`);
  const steps: Step[] = [];
  const tried = new Map<number, boolean>();
  const attempt = async (rate: number) => {
    const known = tried.get(rate);
    if (known !== undefined) return known;
    const s = await tryRate(rate);
    steps.push(s);
    tried.set(rate, s.passed);
    return s.passed;
  };
  let lo: number | null = null;
  let hi: number | null = null;
  let r = Math.round(o.start);
  if (await attempt(r)) {
    lo = r;
    while (hi === null && lo < o.max) {
      r = Math.min(o.max, lo * 2);
      if (await attempt(r)) lo = r;
      else hi = r;
    }
  } else {
    hi = r;
    while (lo === null && hi > o.min) {
      r = Math.max(o.min, Math.floor(hi / 2));
      if (await attempt(r)) lo = r;
      else hi = r;
    }
  }
  while (lo !== null && hi !== null && hi - lo > Math.max(1, lo * o.precision)) {
    const mid = Math.round((lo + hi) / 2);
    if (await attempt(mid)) lo = mid;
    else hi = mid;
  }
  return { capacity: lo, firstFailing: hi, steps };
}

export interface ScenarioReport extends SearchResult {
  scenario: ScenarioName;
  defaultRate: number;
  loadBefore: number;
  loadAfter: number;
  /** When and where this scenario was measured (a report can hold scenarios re-measured later the same day). */
  measuredAt?: string;
  label?: string;
}

export interface CapacityReport {
  date: string;
  label: string;
  machine: string;
  k6: string;
  stepDuration: string;
  precision: number;
  scenarios: ScenarioReport[];
  bench: string | null;
}

/**
 * The day's report after measuring `now.scenarios`: their rows replace the earlier ones of the same scenarios, and
 * the scenarios measured earlier that day are kept with their own time and label (re-measuring one scenario must not
 * drop the others' figures). Scenarios are listed in the order of a full run.
 */
export function mergeCapacityReports(prev: CapacityReport | null, now: CapacityReport): CapacityReport {
  const stamped = (r: CapacityReport) => r.scenarios.map((s) => ({ ...s, measuredAt: s.measuredAt ?? r.date, label: s.label ?? r.label }));
  const fresh = stamped(now);
  const kept = prev ? stamped(prev).filter((s) => !fresh.some((f) => f.scenario === s.scenario)) : [];
  const order = (s: ScenarioReport) => SCENARIOS.indexOf(s.scenario);
  return { ...now, scenarios: [...kept, ...fresh].sort((a, b) => order(a) - order(b)) };
}

function markdown(r: CapacityReport): string {
  const lines = [
    `# Capacity at the SLO, ${r.date}`,
    '',
    `${r.label}. Machine: ${r.machine}. ${r.k6}. Steps of ${r.stepDuration} (spike: its fixed 110 s profile, RATE its base rate), precision ${(r.precision * 100).toFixed(0)} %.`,
    r.bench ? `DB-level benchmark figures beside these: [${r.bench}](${r.bench}).` : 'No DB-level benchmark report in this folder yet (`npm run bench`).',
    '',
    '| scenario | measured (UTC) | default rate /s | capacity /s (every threshold holds) | lowest failing /s | what failed first | load avg before / after |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const s of r.scenarios) {
    const failing = s.steps.find((x) => x.rate === s.firstFailing);
    lines.push(`| ${s.scenario} | ${s.measuredAt ?? r.date} | ${s.defaultRate} | ${s.capacity ?? `< ${s.steps.length ? Math.min(...s.steps.map((x) => x.rate)) : '?'}`} | ${s.firstFailing ?? '(none up to --max)'} | ${failing ? failing.failedThresholds.slice(0, 3).join('; ') || `${failing.droppedIterations} dropped` : ''} | ${s.loadBefore.toFixed(1)} / ${s.loadAfter.toFixed(1)} |`);
  }
  const labels = r.scenarios.filter((s) => s.label && s.label !== r.label);
  if (labels.length) lines.push('', ...labels.map((s) => `- ${s.scenario}, measured ${s.measuredAt}: ${s.label}.`));
  lines.push('', '## Steps', '', '| scenario | rate /s | passed | failed thresholds | HNSW graph before the step |', '|---|---|---|---|---|');
  for (const s of r.scenarios) for (const x of s.steps) lines.push(`| ${s.scenario} | ${x.rate} | ${x.passed ? 'yes' : 'no'} | ${x.failedThresholds.join('; ')} | ${x.vectorIndex ?? ''} |`);
  return lines.join('\n') + '\n';
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'step-duration': { type: 'string', default: '30s' }, min: { type: 'string', default: '1' }, max: { type: 'string', default: '2000' },
      precision: { type: 'string', default: '0.1' }, start: { type: 'string' }, 'report-dir': { type: 'string', default: 'reports' },
      label: { type: 'string', default: 'measured on an unnamed machine' }, 'base-url': { type: 'string' }, k6: { type: 'string' }, 'keep-vector-index': { type: 'boolean' },
    },
  });
  const scenarios = parseScenarios(positionals[0] ?? 'all');
  const num = (k: 'min' | 'max' | 'precision' | 'start', v: string | undefined) => {
    const n = Number(v);
    if (!(n > 0)) throw new Error(`--${k} ${v} is not valid: a positive number`);
    return n;
  };
  const dir = resolve(values['report-dir']!);
  const date = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const stamp = date.slice(0, 10);
  const k6 = values.k6 ?? process.env.K6 ?? 'k6';
  const k6Version = await run(k6, ['version']).then((r) => r.stdout.trim() || r.stderr.trim(), () => 'k6 not found');
  const out: ScenarioReport[] = [];
  for (const scenario of scenarios) {
    const loadBefore = loadavg()[0];
    const stepDir = join(dir, 'capacity', scenario);
    const res = await findCapacity(async (rate) => {
      console.log(`[capacity] ${scenario} at ${rate}/s for ${values['step-duration']} ...`);
      const r: K6RunResult = await runK6(scenario, { k6, rate, duration: values['step-duration'], reportDir: join(stepDir, String(rate)), baseUrl: values['base-url'],
        ...(values['keep-vector-index'] ? { freshVectorIndex: false as const } : {}) });
      if (!r.passed && !r.thresholdsFailed) throw new Error(`${scenario} at ${rate}/s: k6 exited with ${r.code}, not a measurement. Its output:\n${r.output.split('\n').slice(-20).join('\n')}`);
      console.log(`[capacity] ${scenario} at ${rate}/s: ${r.passed ? 'passed' : `failed (${r.failedThresholds.join('; ')})`}`);
      return { rate, passed: r.passed, failedThresholds: r.failedThresholds, droppedIterations: r.droppedIterations, vectorIndex: r.vectorIndex };
    }, { start: values.start ? num('start', values.start) : DEFAULT_RATES[scenario], min: num('min', values.min), max: num('max', values.max), precision: num('precision', values.precision) });
    out.push({ scenario, defaultRate: DEFAULT_RATES[scenario], loadBefore, loadAfter: loadavg()[0], measuredAt: date, label: values.label!, ...res });
    console.log(`[capacity] ${scenario}: ${res.capacity === null ? 'no passing rate' : `${res.capacity}/s`} (lowest failing ${res.firstFailing ?? 'none'})`);
  }
  mkdirSync(dir, { recursive: true });
  const bench = existsSync(dir) ? readdirSync(dir).filter((f) => /^bench-.*\.md$/.test(f)).sort().pop() ?? null : null;
  const machine = `${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${(totalmem() / 1024 ** 3).toFixed(0)} GB`;
  const jsonFile = join(dir, `capacity-${stamp}.json`);
  const prev = existsSync(jsonFile) ? (JSON.parse(readFileSync(jsonFile, 'utf8')) as CapacityReport) : null;
  if (prev) console.log(`[capacity] ${jsonFile} exists: its other scenarios are kept, the ones measured now replaced`);
  const report = mergeCapacityReports(prev, { date, label: values.label!, machine, k6: k6Version, stepDuration: values['step-duration']!, precision: num('precision', values.precision), scenarios: out, bench });
  writeFileSync(jsonFile, JSON.stringify(report, null, 2));
  writeFileSync(join(dir, `capacity-${stamp}.md`), markdown(report));
  console.log(`\n${markdown(report)}\n[capacity] written: ${join(dir, `capacity-${stamp}.md`)} and .json`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main().catch(fail);
