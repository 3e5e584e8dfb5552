// handleSummary: k6's own text summary (checks, dropped iterations, every threshold with its mark) on stdout and in
// a .txt file, followed by a per-operation table; the run's metrics as JSON and as JUnit XML (one test case per
// threshold, so a CI shows which target failed). A handleSummary that returns stdout replaces k6's default summary,
// and k6 1.x offers no built-in way to call it (internal/js/summary-wrapper.js runs it only when handleSummary
// returns nothing), so the text comes from the k6-summary jslib, vendored (lib/vendor) to run offline.
import { textSummary as k6TextSummary } from './vendor/k6-summary.js';
import { env } from './config.ts';

interface Threshold { ok: boolean }
interface Metric { type: string; values: Record<string, number>; thresholds?: Record<string, Threshold> }
interface Summary { metrics: Record<string, Metric>; state?: { testRunDurationMs: number }; root_group?: unknown; options?: unknown }

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function junit(data: Summary, suite: string): string {
  const cases: string[] = [];
  let failures = 0;
  for (const [name, m] of Object.entries(data.metrics)) {
    for (const [expr, t] of Object.entries(m.thresholds ?? {})) {
      const id = esc(`${name} ${expr}`);
      const observed = esc(JSON.stringify(m.values));
      if (t.ok) cases.push(`    <testcase classname="${esc(suite)}" name="${id}"/>`);
      else {
        failures++;
        cases.push(`    <testcase classname="${esc(suite)}" name="${id}"><failure message="threshold crossed">${observed}</failure></testcase>`);
      }
    }
  }
  const secs = ((data.state?.testRunDurationMs ?? 0) / 1000).toFixed(3);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n  <testsuite name="${esc(suite)}" tests="${cases.length}" failures="${failures}" time="${secs}">\n${cases.join('\n')}\n  </testsuite>\n</testsuites>\n`;
}

function opTable(data: Summary): string {
  const lines = ['', 'operation                      p95 ms    p99 ms      reqs  thresholds'];
  for (const [name, m] of Object.entries(data.metrics)) {
    const op = /^http_req_duration\{op:(.+)\}$/.exec(name);
    if (!op) continue;
    const count = data.metrics[`http_reqs{op:${op[1]}}`];
    const th = [...Object.values(m.thresholds ?? {}), ...Object.values(count?.thresholds ?? {})].every((t) => t.ok) ? 'ok' : 'FAILED';
    lines.push(`${op[1].padEnd(28)} ${(m.values['p(95)'] ?? 0).toFixed(1).padStart(8)} ${(m.values['p(99)'] ?? 0).toFixed(1).padStart(9)} ${String(m.values.count ?? 0).padStart(9)}  ${th}`);
  }
  const failed = data.metrics.http_req_failed?.values.rate ?? 0;
  const dropped = data.metrics.dropped_iterations?.values.count ?? 0;
  lines.push(`error rate ${(failed * 100).toFixed(3)} %, dropped iterations ${dropped}`, '');
  return lines.join('\n');
}

/**
 * REPORT_DIR (default `reports`), as handleSummary writes to it: relative to the working directory. k6 does not
 * create folders: `npm run loadtest` creates it; a bare `k6 run` needs it to exist.
 */
export function reportDir(): string {
  return env('REPORT_DIR') ?? 'reports';
}

/**
 * Fails at start, not after the run, when REPORT_DIR does not exist (the summary files would be lost). open() reads
 * paths relative to the script, so a relative REPORT_DIR is checked against PWD (k6 passes the environment);
 * without PWD the check is skipped.
 */
export function assertReportDir(): void {
  const dir = reportDir();
  const cwd = env('PWD');
  if (!dir.startsWith('/') && !cwd) return;
  const abs = dir.startsWith('/') ? dir : `${cwd}/${dir}`;
  try {
    open(abs);
  } catch (e) {
    if (/can't be used with directories|EISDIR|is a directory/i.test(String(e))) return; // it exists: a folder cannot be open()ed
    throw new Error(`REPORT_DIR ${abs} does not exist (k6 does not create it): mkdir -p ${abs}, or run through \`npm run loadtest\``);
  }
  throw new Error(`REPORT_DIR ${abs} is a file, not a folder`);
}

/** Writes <REPORT_DIR>/k6-<scenario>.json, .junit.xml and .txt (k6's text summary) and prints the text. */
export function summaryFor(scenario: string) {
  return (data: Summary): Record<string, string> => {
    const dir = reportDir();
    const text = `${k6TextSummary(data, { indent: ' ', enableColors: false })}\n${opTable(data)}`;
    return {
      stdout: text,
      [`${dir}/k6-${scenario}.txt`]: text,
      [`${dir}/k6-${scenario}.json`]: JSON.stringify(data, null, 2),
      [`${dir}/k6-${scenario}.junit.xml`]: junit(data, `k6 ${scenario}`),
    };
  };
}
