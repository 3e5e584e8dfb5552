// `npm run drill`: every local drill in one run, one report. The PITR and logical drills read the local stack
// (started if needed) and restore into scratch clusters; the fault drills kill and break things, so they run
// on a private stack instance made for them and removed afterwards.
import { existsSync, realpathSync, rmSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { PG_INSTALL, repoRoot, stackConfig, type StackConfig } from '../config.js';
import { reservePorts } from '../proc/ports.js';
import { run } from '../proc/run.js';
import { pgBin } from '../local/render.js';
import { postgresRunning, startStack, stopStack } from '../local/stack.js';
import { applyMigrations } from '../migrate/index.js';
import { archiveFailureDrill, killPostmasterDrill, restartPgbouncerDrill } from './faults.js';
import { runLogicalDrill } from './logical.js';
import { runPitrDrill } from './pitr.js';
import { runFailoverDrills } from './failover.js';
import { evaluateGoals, writeReport, type DrillReport } from './report.js';

export interface DrillOptions {
  source: StackConfig;
  /** Ports for the scratch clusters and the private fault stack; each one not given is a free port chosen at run time. */
  restorePort?: number;
  logicalPort?: number;
  faultPgPort?: number;
  faultBouncerPort?: number;
  pitr: boolean;
  logical: boolean;
  faults: boolean;
  /** The failover drill (a private stack with a replica per replication mode). */
  failover: boolean;
  reportDir: string;
  command: string;
  log: (l: string) => void;
}

const migrate = async (url: string) => void (await applyMigrations({ connectionString: url, log: () => {} }));

/** The private stack the fault drills may crash: own folder next to the source stack's, own ports. */
export function faultStackConfig(source: StackConfig, pgPort: number, bouncerPort: number): StackConfig {
  return { ...stackConfig('test'), home: join(workDir(source), 'drill-faults'), pgPort, bouncerPort };
}

/** A folder beside the stack's real home (the servers' OS user can reach it, as it reaches the stack). */
export function workDir(source: StackConfig): string {
  return dirname(existsSync(source.home) ? realpathSync(source.home) : source.home);
}

async function version(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args).catch(() => null);
  return r?.code === 0 ? r.stdout.trim().split('\n')[0] : 'unknown';
}

const PORT_KEYS = ['restorePort', 'logicalPort', 'faultPgPort', 'faultBouncerPort'] as const;

/** The ports the caller gave, the others chosen now (free, outside the ephemeral range, locked until release). */
async function drillPorts(o: DrillOptions): Promise<{ ports: Record<(typeof PORT_KEYS)[number], number>; release: () => void }> {
  const missing = PORT_KEYS.filter((k) => o[k] === undefined);
  const lease = await reservePorts(missing.length);
  const chosen = new Map(missing.map((k, i) => [k, lease.ports[i]]));
  const ports = Object.fromEntries(PORT_KEYS.map((k) => [k, o[k] ?? chosen.get(k)!])) as Record<(typeof PORT_KEYS)[number], number>;
  return { ports, release: lease.release };
}

export async function runDrills(o: DrillOptions): Promise<{ report: DrillReport; files: { json: string; md: string } }> {
  const startedAt = new Date().toISOString();
  const log = o.log;
  const errors: string[] = [];
  const failures: string[] = [];
  const scratchDir = join(workDir(o.source), `drill-scratch-${process.pid}`);
  const { ports, release } = await drillPorts(o);
  const report: DrillReport = {
    kind: 'pgkit-drill',
    startedAt,
    finishedAt: '',
    command: o.command,
    host: {
      cpus: availableParallelism(),
      memoryGb: Math.round(totalmem() / 1e9),
      postgres: await version(pgBin('postgres'), ['--version']),
      pgbackrest: await version(PG_INSTALL.pgbackrest, ['version']),
    },
    stacks: {
      pitrAndLogical: `the ${o.source.name} stack (${o.source.host}:${o.source.pgPort}, ${o.source.home})`,
      faults: o.faults ? `a private drill stack (ports ${ports.faultPgPort}/${ports.faultBouncerPort}) created for the run and removed after it — the ${o.source.name} stack is never crashed` : 'skipped',
      failover: o.failover ? `a private stack with a read replica per replication mode (free ports), created for the run and removed after it — the ${o.source.name} stack is never touched` : 'skipped',
    },
    ok: false,
    failures,
    goals: [],
    errors,
  };

  const attempt = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (e) {
      errors.push(`${what} could not complete: ${(e as Error).message}`);
      log(`${what} FAILED: ${(e as Error).message}`);
    }
  };

  try {
    if (o.pitr || o.logical) {
      log(`bringing up the ${o.source.name} stack (if needed)`);
      // Like \`npm start\` when the stack is down; a running stack is drilled as it is (its schema untouched).
      const running = postgresRunning(o.source) !== null;
      await startStack(o.source, { log: (l) => log(`  [stack] ${l}`), migrate: running ? undefined : migrate });
    }
    if (o.pitr) {
      await attempt('PITR drill', async () => {
        report.pitr = await runPitrDrill(o.source, { restorePort: ports.restorePort, scratchDir, log });
        failures.push(...report.pitr.failures);
      });
    }
    if (o.logical) {
      await attempt('logical drill', async () => {
        report.logical = await runLogicalDrill(o.source, { restorePort: ports.logicalPort, scratchDir, log });
        failures.push(...report.logical.failures);
      });
    }
    if (o.faults) {
      const fcfg = faultStackConfig(o.source, ports.faultPgPort, ports.faultBouncerPort);
      await attempt('fault drills', async () => {
        log(`starting a private stack for the fault drills in ${fcfg.home}`);
        try {
          await startStack(fcfg, { log: (l) => log(`  [drill stack] ${l}`), migrate });
          const writes = [await killPostmasterDrill(fcfg, log), await restartPgbouncerDrill(fcfg, log)];
          const archive = await archiveFailureDrill(fcfg, log);
          report.faults = { writes, archive };
          for (const f of [...writes, archive]) failures.push(...f.failures);
        } finally {
          await stopStack(fcfg).catch(() => {});
          rmSync(fcfg.home, { recursive: true, force: true });
        }
      });
    }
    if (o.failover) {
      await attempt('failover drill', async () => {
        report.failover = await runFailoverDrills(workDir(o.source), { migrate, log });
        for (const f of report.failover) failures.push(...f.failures);
      });
    }
  } finally {
    rmSync(scratchDir, { recursive: true, force: true });
    release();
  }

  report.goals = evaluateGoals(report);
  // A missed goal fails the run, except the RTO ratio on a dataset too small for it to mean anything (the
  // goal's note says so in the report).
  for (const g of report.goals) if (g.met === false && !g.note?.includes('fixed costs')) failures.push(`goal missed: ${g.goal} = ${g.measured} (target ${g.target})`);
  report.finishedAt = new Date().toISOString();
  report.ok = failures.length === 0 && errors.length === 0;
  const files = writeReport(report, o.reportDir);
  return { report, files };
}

export const defaultReportDir = join(repoRoot, 'reports');
