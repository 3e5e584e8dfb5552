// handleSummary: the run's metrics as JSON and as JUnit XML (one test case per threshold, so a CI shows
// which target failed). A local helper instead of the jslib import so the scripts type-check offline.
interface Threshold { ok: boolean }
interface Metric { type: string; values: Record<string, number>; thresholds?: Record<string, Threshold> }
interface Summary { metrics: Record<string, Metric>; state?: { testRunDurationMs: number } }

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

function textSummary(data: Summary): string {
  const lines = ['', 'operation                      p95 ms    p99 ms      reqs  thresholds'];
  for (const [name, m] of Object.entries(data.metrics)) {
    const op = /^http_req_duration\{op:(.+)\}$/.exec(name);
    if (!op) continue;
    const th = Object.values(m.thresholds ?? {}).every((t) => t.ok) ? 'ok' : 'FAILED';
    lines.push(`${op[1].padEnd(28)} ${(m.values['p(95)'] ?? 0).toFixed(1).padStart(8)} ${(m.values['p(99)'] ?? 0).toFixed(1).padStart(9)} ${String(m.values.count ?? '').padStart(9)}  ${th}`);
  }
  const failed = data.metrics.http_req_failed?.values.rate ?? 0;
  lines.push(`error rate ${(failed * 100).toFixed(3)} %`, '');
  return lines.join('\n');
}

/** Writes reports/k6-<scenario>.json and .junit.xml (REPORT_DIR overrides the folder) and prints a table. */
export function summaryFor(scenario: string) {
  return (data: Summary): Record<string, string> => {
    const dir = __ENV.REPORT_DIR || 'reports';
    return {
      stdout: textSummary(data),
      [`${dir}/k6-${scenario}.json`]: JSON.stringify(data, null, 2),
      [`${dir}/k6-${scenario}.junit.xml`]: junit(data, `k6 ${scenario}`),
    };
  };
}
