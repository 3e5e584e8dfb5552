#!/usr/bin/env -S npx tsx
// `npm run loadtest -- <all|scenario,...> [--rate N] [--duration 2m] [--report-dir reports] [--base-url URL] [--k6 PATH]
// [--keep-vector-index]`: runs the k6 scenarios one after the other against a running workload service (`npm run
// service`), each with its summaries (k6-<scenario>.txt/.json/.junit.xml), HTML report and log in the report folder;
// exits 1 when any failed. Before spike and vector-search the HNSW graph is rebuilt if earlier runs wrote to it
// (lib/vector-index.ts); --keep-vector-index measures it as it is.
import { parseArgs } from 'node:util';
import { fail } from '../../scripts/lib/fail.js';
import { parseScenarios, runK6 } from './k6.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { rate: { type: 'string' }, duration: { type: 'string' }, 'report-dir': { type: 'string' }, 'base-url': { type: 'string' }, k6: { type: 'string' }, 'bulk-rate': { type: 'string' }, 'keep-vector-index': { type: 'boolean' } },
});

try {
  const scenarios = parseScenarios(positionals[0] ?? 'all');
  const rate = values.rate === undefined ? undefined : Number(values.rate);
  if (rate !== undefined && !(rate > 0)) throw new Error(`--rate ${values.rate} is not valid: a positive number`);
  const results = [];
  for (const s of scenarios) {
    console.log(`[loadtest] ${s}${rate ? ` at ${rate}/s` : ''}${values.duration ? ` for ${values.duration}` : ''} ...`);
    const r = await runK6(s, {
      k6: values.k6, rate, duration: values.duration, reportDir: values['report-dir'] ?? 'reports', baseUrl: values['base-url'],
      env: values['bulk-rate'] ? { BULK_RATE: values['bulk-rate'] } : {},
      ...(values['keep-vector-index'] ? { freshVectorIndex: false as const } : {}),
    });
    process.stdout.write(r.output);
    results.push(r);
  }
  console.log('\n[loadtest] scenario        result');
  for (const r of results) {
    const what = r.passed ? 'passed' : r.thresholdsFailed ? `thresholds crossed: ${r.failedThresholds.join('; ')}` : `k6 exited with ${r.code} (see k6-${r.scenario}.log)`;
    console.log(`[loadtest] ${r.scenario.padEnd(15)} ${what}`);
  }
  if (results.some((r) => !r.passed)) process.exit(1);
} catch (e) {
  fail(e);
}
