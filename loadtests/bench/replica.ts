#!/usr/bin/env -S npx tsx
// `npm run bench:replica`: what the local read replica (npm start -- --replica) gives and costs, in one run:
//   1. replica lag under a write mix: pgbench's tpcb-like script (3 updates, an insert, a select per transaction)
//      on the primary while reads run on the replica; pg_stat_replication sampled every 100 ms (replay_lag and the
//      bytes not yet replayed);
//   2. read capacity: pgbench -S (select-only) with C clients on the primary alone, then the same C clients split
//      between primary and replica, then C clients on each; transactions per second as ratios to the primary alone;
//   3. CPU, from /proc (src/proc/cpu.ts): what replaying the write mix cost the replica (its startup and walreceiver
//      processes) against what the primary spent on the same writes, and the primary's CPU per read. On one machine
//      the servers share the cores, so the read ratio above cannot show what a replica on its own host adds; these
//      CPU costs can: such a replica has its cores less the replay's for reads (docs/capacity.md).
// Both servers are reached directly as the application login (the pgbench tables are granted to it).
// Writes reports/replica-<date>T<hh-mm>.{json,md}.
//   --clients C (8)  --seconds T (15)  --scale S (10: pgbench's scale, 1M account rows)  --out DIR (reports/)
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { pgBinDir, repoRoot, stackConfig } from '../../src/config.js';
import { parseLsn } from '../../src/db/lsn.js';
import { REPLICA_NAME } from '../../src/local/render.js';
import { replicaRunning } from '../../src/local/replica.js';
import { connectionStrings, postgresRunning, stackSecrets } from '../../src/local/stack.js';
import { runStep } from '../../src/proc/run.js';
import { serverCpuSeconds, serverProcessCpuSeconds } from '../../src/proc/cpu.js';
import { sleep } from '../../src/proc/system.js';
import { percentile } from './report.js';
import { conn, pgbench } from './pgbench.js';

const DB = 'pgkit_replica_bench';
/** The standby's processes that receive and replay WAL. */
const REPLAY_PROCESSES = /postgres: (\S+: )?(startup|walreceiver)/;

export interface LagSample {
  at: number;
  replayLagMs: number | null;
  lagBytes: number;
}

export interface ReplicaBenchReport {
  kind: 'pgkit-replica-bench';
  date: string;
  host: string;
  /** 1/5/15-minute load averages when the run started and when it ended (a shared machine: read them with the figures). */
  loadAverage: { start: number[]; end: number[] };
  clients: number;
  seconds: number;
  scale: number;
  lag: { writeTps: number; replicaReadTps: number; samples: number; replayLagMs: { p50: number; p95: number; max: number }; lagBytes: { p50: number; p95: number; max: number } };
  reads: { primaryAlone: number; split: { primary: number; replica: number; total: number }; both: { primary: number; replica: number; total: number }; splitRatio: number; bothRatio: number };
  cpu: {
    /** During the write mix: CPU-seconds per second of the replica's replay (startup + walreceiver) and of the whole primary. */
    replayCoresAtWriteMix: number;
    primaryCoresAtWriteMix: number;
    /** Replay CPU per write transaction against the primary's CPU per write transaction (which also served nothing else). */
    replayMsPerWrite: number;
    primaryMsPerWrite: number;
    /** The primary alone under pgbench -S: CPU-ms per read transaction. */
    primaryMsPerRead: number;
    replayProcesses: string[];
  };
}

const tps = (out: string) => Number(/tps = ([\d.]+)/.exec(out)?.[1] ?? NaN);
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p95: percentile(s, 95), max: s.at(-1) ?? NaN };
};

/** Samples the replica's lag as the primary sees it until stop() is called. */
function sampleLag(superuserUrl: string, everyMs = 100) {
  const samples: LagSample[] = [];
  let stopping = false;
  const done = (async () => {
    const c = new pg.Client({ connectionString: superuserUrl });
    await c.connect();
    try {
      while (!stopping) {
        const r = await c.query<{ ms: number | null; bytes: string }>(
          `SELECT (extract(epoch FROM replay_lag) * 1000)::float8 AS ms, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint::text AS bytes
             FROM pg_stat_replication WHERE application_name = $1`,
          [REPLICA_NAME],
        );
        if (r.rows[0]) samples.push({ at: Date.now(), replayLagMs: r.rows[0].ms, lagBytes: Number(r.rows[0].bytes) });
        await sleep(everyMs);
      }
    } finally {
      await c.end();
    }
  })();
  return { samples, stop: async () => ((stopping = true), await done) };
}

async function waitReplayed(primaryUrl: string, replicaUrl: string, timeoutMs = 300_000) {
  const at = async (url: string, sql: string) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return parseLsn((await c.query<{ l: string }>(sql)).rows[0].l);
    } finally {
      await c.end();
    }
  };
  const target = await at(primaryUrl, 'SELECT pg_current_wal_lsn()::text AS l');
  const until = Date.now() + timeoutMs;
  while ((await at(replicaUrl, 'SELECT pg_last_wal_replay_lsn()::text AS l')) < target) {
    if (Date.now() > until) throw new Error(`the replica did not replay the benchmark's set-up within ${timeoutMs / 1000} s`);
    await sleep(200);
  }
}

export function replicaMarkdown(r: ReplicaBenchReport): string {
  const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
  return [
    `# Read replica: lag and read capacity — ${r.date}`,
    '',
    `${r.host}; 1/5/15-minute load average ${r.loadAverage.start.map((x) => x.toFixed(2)).join(' / ')} at the start, ${r.loadAverage.end.map((x) => x.toFixed(2)).join(' / ')} at the end. pgbench, ${r.clients} clients, ${r.seconds} s per run, scale ${r.scale}, direct to each server as the application login.`,
    '',
    '## Replica lag under a write mix',
    '',
    `pgbench tpcb-like on the primary (${f(r.lag.writeTps)} tps) while pgbench -S reads on the replica (${f(r.lag.replicaReadTps)} tps); ${r.lag.samples} samples of pg_stat_replication.`,
    '',
    '| | p50 | p95 | max |',
    '|---|---|---|---|',
    `| replay lag (ms) | ${f(r.lag.replayLagMs.p50, 1)} | ${f(r.lag.replayLagMs.p95, 1)} | ${f(r.lag.replayLagMs.max, 1)} |`,
    `| WAL not yet replayed (bytes) | ${f(r.lag.lagBytes.p50)} | ${f(r.lag.lagBytes.p95)} | ${f(r.lag.lagBytes.max)} |`,
    '',
    '## Read capacity (pgbench -S)',
    '',
    '| run | primary tps | replica tps | total tps | ratio to the primary alone |',
    '|---|---|---|---|---|',
    `| primary alone, ${r.clients} clients | ${f(r.reads.primaryAlone)} | - | ${f(r.reads.primaryAlone)} | 1.00 |`,
    `| the same ${r.clients} clients split across both | ${f(r.reads.split.primary)} | ${f(r.reads.split.replica)} | ${f(r.reads.split.total)} | ${f(r.reads.splitRatio, 2)} |`,
    `| ${r.clients} clients on each | ${f(r.reads.both.primary)} | ${f(r.reads.both.replica)} | ${f(r.reads.both.total)} | ${f(r.reads.bothRatio, 2)} |`,
    '',
    'On one machine both servers share its cores: a replica there adds no CPU, so the ratio shows what the machine has to spare, not what a replica on its own host would add.',
    '',
    '## CPU (from /proc)',
    '',
    '| what | CPU |',
    '|---|---|',
    `| the replica replaying the write mix (startup + walreceiver) | ${f(r.cpu.replayCoresAtWriteMix, 3)} cores; ${f(r.cpu.replayMsPerWrite, 3)} ms per write transaction |`,
    `| the primary during the write mix (its writes; the replica's reads ran on the replica) | ${f(r.cpu.primaryCoresAtWriteMix, 3)} cores; ${f(r.cpu.primaryMsPerWrite, 3)} ms per write transaction |`,
    `| the primary alone under pgbench -S | ${f(r.cpu.primaryMsPerRead, 4)} ms per read transaction |`,
    '',
    `Replay costs ${f((100 * r.cpu.replayMsPerWrite) / r.cpu.primaryMsPerWrite, 0)}% of the CPU the primary spends on the same writes. A replica on its own host with as many cores as the primary has all of them for reads but the replay's share: at ${f(r.lag.writeTps)} write transactions/s that is ${f(r.cpu.replayCoresAtWriteMix, 2)} cores.`,
    '',
  ].join('\n');
}

async function main() {
  const { values } = parseArgs({ options: { clients: { type: 'string', default: '8' }, seconds: { type: 'string', default: '15' }, scale: { type: 'string', default: '10' }, out: { type: 'string', default: join(repoRoot, 'reports') } } });
  const C = Number(values.clients);
  const T = Number(values.seconds);
  const S = Number(values.scale);
  const stack = stackConfig();
  if (replicaRunning(stack) === null) throw new Error(`the ${stack.name} stack's read replica is not running: start it with \`npm start -- --replica\` (or PGKIT_REPLICA=1 npm start)`);
  const secrets = stackSecrets(stack);
  const urls = connectionStrings(stack, secrets, DB);
  const su = connectionStrings(stack, secrets, 'postgres').superuserDirect;
  const onReplica = (url: string) => url.replace(`:${stack.pgPort}/`, `:${stack.replicaPort}/`);
  const loadStart = loadavg();
  const work = join(repoRoot, 'reports', 'tmp', `replica-bench-${process.pid}`);
  mkdirSync(work, { recursive: true });
  try {
    const admin = new pg.Client({ connectionString: connectionStrings(stack, secrets, 'postgres').adminDirect });
    await admin.connect();
    if ((await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DB])).rowCount === 0) await admin.query(`CREATE DATABASE ${DB}`);
    await admin.end();
    const a = conn(urls.adminDirect);
    process.stderr.write(`[bench:replica] pgbench -i -s ${S} in ${DB}\n`);
    await runStep('pgbench -i', join(pgBinDir, 'pgbench'), ['-i', '-s', String(S), '-q', '-h', a.host, '-p', a.port, '-U', a.user, DB], { env: { PGPASSWORD: a.password, PGOPTIONS: '-c search_path=public' } });
    const g = new pg.Client({ connectionString: urls.adminDirect });
    await g.connect();
    await g.query('GRANT USAGE ON SCHEMA public TO pgkit_app; GRANT SELECT ON ALL TABLES IN SCHEMA public TO pgkit_app');
    await g.end();
    await waitReplayed(urls.superuserDirect, onReplica(urls.superuserDirect));
    const sel = (c: number) => ['-n', '-S', '-M', 'simple', '-c', String(c), '-j', '2', '-T', String(T)];
    const both = async (cp: number, cr: number) => {
      const [p, r] = await Promise.all([pgbench(urls.appDirect, sel(cp), work), pgbench(onReplica(urls.appDirect), sel(cr), work)]);
      return { primary: tps(p), replica: tps(r), total: tps(p) + tps(r) };
    };

    process.stderr.write(`[bench:replica] write mix on the primary, reads on the replica, ${T} s: sampling the lag\n`);
    const replicaPid = replicaRunning(stack)!;
    const primaryPid = postgresRunning(stack);
    if (primaryPid === null) throw new Error(`the ${stack.name} stack's PostgreSQL is not running: npm start -- --replica`);
    const sampler = sampleLag(su);
    const replay0 = serverProcessCpuSeconds(replicaPid, REPLAY_PROCESSES);
    const prim0 = serverCpuSeconds(primaryPid);
    const [w, rr] = await Promise.all([
      pgbench(urls.adminDirect, ['-n', '-b', 'tpcb-like', '-M', 'simple', '-c', String(C), '-j', '2', '-T', String(T)], work),
      pgbench(onReplica(urls.appDirect), sel(Math.max(1, C / 2)), work),
    ]);
    const replay1 = serverProcessCpuSeconds(replicaPid, REPLAY_PROCESSES);
    const primWrite = serverCpuSeconds(primaryPid) - prim0;
    await sampler.stop();
    const lagMs = sampler.samples.map((s) => s.replayLagMs ?? 0);
    const lagBytes = sampler.samples.map((s) => s.lagBytes);

    process.stderr.write(`[bench:replica] read capacity: ${C} clients on the primary alone, split, and on each (${T} s each)\n`);
    const prim1 = serverCpuSeconds(primaryPid);
    const aloneOut = await pgbench(urls.appDirect, sel(C), work);
    const primRead = serverCpuSeconds(primaryPid) - prim1;
    const alone = tps(aloneOut);
    const readTxns = Number(/number of transactions actually processed: (\d+)/.exec(aloneOut)?.[1] ?? NaN);
    const writeTxns = tps(w) * T;
    const replaySeconds = replay1.seconds - replay0.seconds;
    const split = await both(Math.ceil(C / 2), Math.floor(C / 2));
    const each = await both(C, C);
    // Minutes in the name: runs on a shared machine differ, and each is kept.
    const date = new Date().toISOString().slice(0, 16).replace(':', '-');
    const report: ReplicaBenchReport = {
      kind: 'pgkit-replica-bench',
      date: new Date().toISOString(),
      host: `${cpus().length} cores (${cpus()[0]?.model ?? 'cpu'}), PostgreSQL ${stack.name} stack with its replica on the same machine`,
      loadAverage: { start: loadStart, end: loadavg() },
      clients: C,
      seconds: T,
      scale: S,
      lag: { writeTps: tps(w), replicaReadTps: tps(rr), samples: sampler.samples.length, replayLagMs: stats(lagMs), lagBytes: stats(lagBytes) },
      reads: { primaryAlone: alone, split, both: each, splitRatio: split.total / alone, bothRatio: each.total / alone },
      cpu: {
        replayCoresAtWriteMix: replaySeconds / T,
        primaryCoresAtWriteMix: primWrite / T,
        replayMsPerWrite: (1000 * replaySeconds) / writeTxns,
        primaryMsPerWrite: (1000 * primWrite) / writeTxns,
        primaryMsPerRead: (1000 * primRead) / readTxns,
        replayProcesses: replay1.processes,
      },
    };
    mkdirSync(values.out!, { recursive: true });
    const base = join(values.out!, `replica-${date}`);
    writeFileSync(`${base}.json`, JSON.stringify(report, null, 2) + '\n');
    writeFileSync(`${base}.md`, replicaMarkdown(report));
    const l = report.lag;
    console.log(`replica lag under the write mix (${l.writeTps.toFixed(0)} tps of tpcb-like): replay lag p50 ${l.replayLagMs.p50.toFixed(1)} ms, p95 ${l.replayLagMs.p95.toFixed(1)} ms, max ${l.replayLagMs.max.toFixed(1)} ms; unreplayed WAL p95 ${l.lagBytes.p95.toFixed(0)} bytes, max ${l.lagBytes.max.toFixed(0)}`);
    console.log(`read capacity (pgbench -S, ${C} clients): primary alone ${alone.toFixed(0)} tps; split across both ${split.total.toFixed(0)} tps (${report.reads.splitRatio.toFixed(2)}x); ${C} on each ${each.total.toFixed(0)} tps (${report.reads.bothRatio.toFixed(2)}x)`);
    const cpu = report.cpu;
    console.log(`CPU: replay ${cpu.replayCoresAtWriteMix.toFixed(3)} cores (${cpu.replayMsPerWrite.toFixed(3)} ms per write) against the primary's ${cpu.primaryMsPerWrite.toFixed(3)} ms per write; the primary ${cpu.primaryMsPerRead.toFixed(4)} ms per read`);
    console.log(`wrote ${base}.json and .md`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e) => {
    console.error(`bench:replica failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
