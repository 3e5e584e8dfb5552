// Benchmark report: percentiles from pgbench's per-transaction logs, the markdown table, and an SVG latency
// chart per operation (latency distribution as a CDF with the p95 target and goal marked).
export interface OpResult {
  op: string;
  transactions: number;
  errors: number;
  seconds: number;
  tps: number;
  p50: number;
  p95: number;
  p99: number;
  seedP95: number;
  goalP95: number;
  passSeed: boolean;
  passGoal: boolean;
  note?: string;
  chart?: string;
  /** 1-minute load average of the machine when the operation's run ended (shared machine: noise indicator). */
  load1?: number;
  /** Rows the operation's statements returned or wrote per transaction (pg_stat_statements, top level). */
  rowsPerTxn?: number;
  /** Shared buffers (hit + read) of the operation's statements per transaction (pg_stat_statements, top level). */
  blocksPerTxn?: number;
}

export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** pgbench -l lines: client_id transaction_no time_us script_no time_epoch time_us_frac [lag]; time in microseconds. */
export function parsePgbenchLog(text: string): { latenciesMs: number[]; failed: number } {
  const latenciesMs: number[] = [];
  let failed = 0;
  for (const line of text.split('\n')) {
    if (!line) continue;
    const f = line.split(' ');
    if (f[2] === 'failed' || f[2] === 'skipped') {
      failed++;
      continue;
    }
    const us = Number(f[2]);
    if (Number.isFinite(us)) latenciesMs.push(us / 1000);
  }
  return { latenciesMs, failed };
}

export function svgChart(op: string, sortedMs: number[], seedP95: number, goalP95: number): string {
  const W = 640, H = 320, L = 60, R = 20, T = 30, B = 45;
  const max = Math.max(percentile(sortedMs, 99.9) * 1.1, goalP95 * 1.2, 0.5);
  const x = (ms: number) => L + (Math.min(ms, max) / max) * (W - L - R);
  const y = (q: number) => T + (1 - q) * (H - T - B);
  const pts: string[] = [];
  const steps = 200;
  for (let k = 0; k <= steps; k++) {
    const q = k / steps;
    const v = percentile(sortedMs, Math.max(0.0001, q * 100));
    pts.push(`${x(v).toFixed(1)},${y(q).toFixed(1)}`);
  }
  const ticks = Array.from({ length: 6 }, (_, i) => (max * i) / 5);
  const vline = (ms: number, color: string, label: string) =>
    ms <= max ? `<line x1="${x(ms)}" y1="${T}" x2="${x(ms)}" y2="${H - B}" stroke="${color}" stroke-dasharray="4 3"/><text x="${x(ms) + 3}" y="${T + 12}" font-size="11" fill="${color}">${label}</text>` : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${L}" y="18" font-size="14">${op}: latency CDF (n = ${sortedMs.length}; p50 ${percentile(sortedMs, 50).toFixed(2)} ms, p95 ${percentile(sortedMs, 95).toFixed(2)} ms, p99 ${percentile(sortedMs, 99).toFixed(2)} ms)</text>
<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>
${ticks.map((t) => `<text x="${x(t)}" y="${H - B + 15}" font-size="10" text-anchor="middle">${t.toFixed(t < 10 ? 1 : 0)}</text>`).join('')}
<text x="${(L + W - R) / 2}" y="${H - 8}" font-size="11" text-anchor="middle">latency (ms)</text>
${[0, 0.5, 0.95, 0.99, 1].map((q) => `<text x="${L - 5}" y="${y(q) + 3}" font-size="10" text-anchor="end">${q}</text><line x1="${L}" y1="${y(q)}" x2="${W - R}" y2="${y(q)}" stroke="#ddd"/>`).join('')}
<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="${pts.join(' ')}"/>
${vline(goalP95, '#2ca02c', `goal p95 ${goalP95} ms`)}
${vline(seedP95, '#d62728', `seed target p95 ${seedP95} ms`)}
</svg>
`;
}

export interface Ceiling {
  clients: number;
  threads: number;
  seconds_per_round: number;
  rounds: number;
  per_round_tps: Record<string, number[]>;
  direct_tps: number;
  pgbouncer_tps: number;
  pgbouncer_ratio: number;
  pgbouncer_with_reset_tps: number | null;
  pgbouncer_with_reset_ratio: number | null;
  read_mix: string[];
  read_mix_direct_tps: number;
  read_mix_pgbouncer_tps: number;
  read_mix_ratio: number;
  stack_config: string;
  min_ratio: number;
}

export function markdown(r: { when: string; where: string; scale: string; load: string; ops: OpResult[]; ceiling: Ceiling; recall: unknown; notes: string[] }): string {
  const rows = r.ops.map((o) =>
    `| ${o.op} | ${o.p50.toFixed(2)} | ${o.p95.toFixed(2)} | ${o.p99.toFixed(2)} | ${o.tps.toFixed(0)} | ${o.transactions} | ${o.errors} | ${o.rowsPerTxn !== undefined ? o.rowsPerTxn.toFixed(1) : ''} | < ${o.seedP95} / ≤ ${o.goalP95} | ${o.passSeed ? 'pass' : 'FAIL'} / ${o.passGoal ? 'pass' : 'FAIL'} | ${o.load1 !== undefined ? o.load1.toFixed(2) : ''} | ${o.note ?? ''} |`,
  );
  const c = r.ceiling;
  const rounds = (name: string) => (c.per_round_tps[name] ?? []).map((x) => x.toFixed(0)).join(', ');
  const ceil = [
    `| direct (app role, port of PostgreSQL) | ${c.direct_tps.toFixed(0)} | ${rounds('direct')} | 1 |`,
    `| PgBouncer, stack config | ${c.pgbouncer_tps.toFixed(0)} | ${rounds('pgbouncer')} | ${c.pgbouncer_ratio.toFixed(3)} |`,
  ];
  if (c.pgbouncer_with_reset_tps !== null && c.pgbouncer_with_reset_ratio !== null) {
    ceil.push(`| PgBouncer with a reset after every transaction (second instance, same run) | ${c.pgbouncer_with_reset_tps.toFixed(0)} | ${rounds('pgbouncer_with_reset')} | ${c.pgbouncer_with_reset_ratio.toFixed(3)} |`);
  }
  ceil.push(
    `| read mix (${c.read_mix.join(', ')}), direct | ${c.read_mix_direct_tps.toFixed(0)} | ${rounds('read_mix_direct')} | 1 |`,
    `| read mix, PgBouncer | ${c.read_mix_pgbouncer_tps.toFixed(0)} | ${rounds('read_mix_pgbouncer')} | ${c.read_mix_ratio.toFixed(3)} |`,
  );
  return `# DB benchmark ${r.when}

Measured ${r.when} on ${r.where}; data: ${r.scale}. Load average (1/5/15 min): ${r.load}.
pgbench custom scripts (loadtests/bench/scripts), each transaction authenticates its request context (app.authenticate_context with the fixture's signed token,
sql/0930) and runs as the application role through PgBouncer (transaction pooling). Latency is per pgbench
transaction (BEGIN, context + fixture lookup, the operation, COMMIT).

| operation | p50 ms | p95 ms | p99 ms | tps | txns | errors | rows/txn | p95 target (seed / goal) | seed / goal | load avg (1 min) at end | note |
|---|---|---|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

PgBouncer vs direct on this machine, same run: the built-in \`pgbench -S\` (select-only, one statement per
transaction: the pooler's worst case) on a scale-10 pgbench database, and the product's read mix on the load-test
data; ${c.clients} clients, ${c.threads} threads (a pooled application's connection count), ${c.rounds} rounds
of ${c.seconds_per_round} s alternated between the targets; tps averaged over the rounds. Stack config:
${c.stack_config}.

| target | tps | per round | ratio to direct (goal ≥ ${c.min_ratio}) |
|---|---|---|---|
${ceil.join('\n')}

Vector recall (from the seed run): ${JSON.stringify(r.recall)}

${r.notes.map((n) => `- ${n}`).join('\n')}
`;
}
