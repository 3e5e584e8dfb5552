// The failover drill, on a private stack with a read replica (never the user's stack): 4 clients write a known
// stream of rows to the primary (beside 2 bulk writers, so the standby has WAL to trail), the primary is killed (SIGKILL to the postmaster and every process of its data
// folder: the server is gone at once, as when its machine dies), the standby is promoted, and the drill reports
// what was lost and how long it took:
//   RPO: rows the primary acknowledged as committed that the promoted standby lacks, counted exactly;
//   RTO: from the kill to the first successful write on the promoted standby (detection is immediate here: the
//        drill knows it killed the primary; a real failover adds the time to notice).
// Run once with asynchronous replication and once with synchronous (synchronous_standby_names naming the replica,
// synchronous_commit on): then a commit is acknowledged only once the standby has flushed it, and the RPO must be 0.
import { join } from 'node:path';
import pg from 'pg';
import { stackConfig, type StackConfig } from '../config.js';
import { reservePorts } from '../proc/ports.js';
import { isAlive, processesInDir, sleep } from '../proc/system.js';
import { stackPaths } from '../config.js';
import { REPLICA_NAME } from '../local/render.js';
import { promoteReplica, replicaState, waitStreaming } from '../local/replica.js';
import { connectionStrings, postgresRunning, removeStackFiles, stackSecrets, startStack, stopStack } from '../local/stack.js';
import { withClient } from './cluster.js';
import { AckWriters, DRILL_SCHEMA, ensureDrillTables } from './load.js';
import { checkAcknowledged } from './verify.js';
import { presentIds } from './faults.js';

export type ReplicationMode = 'async' | 'sync';

export interface FailoverResult {
  mode: ReplicationMode;
  ok: boolean;
  failures: string[];
  /** Rows the primary acknowledged before it was killed, and how many of them the promoted standby lacks (RPO). */
  acknowledged: number;
  lost: number;
  lostIds: number[];
  /** Writes in flight at the kill (outcome never learned by the client), and how many the standby holds. */
  unknown: number;
  unknownPresent: number;
  /** The standby's state just before the kill, as the primary saw it. */
  syncStateAtKill: string | null;
  lagBytesAtKill: number | null;
  /** RTO and its parts: kill to promoted (pg_ctl promote -w), then to the first write that committed there. */
  rtoMs: number;
  promoteMs: number;
  firstWriteMs: number;
}

type Log = (l: string) => void;

/** A private stack with a replica for one failover run, on free ports, beside `baseDir`. */
export async function failoverStack(baseDir: string, mode: ReplicationMode): Promise<{ cfg: StackConfig; release: () => void }> {
  const lease = await reservePorts(3);
  const [pgPort, bouncerPort, replicaPort] = lease.ports;
  const cfg: StackConfig = { ...stackConfig('test'), home: join(baseDir, `drill-failover-${mode}-${process.pid}`), pgPort, bouncerPort, replicaPort, replica: true };
  return { cfg, release: lease.release };
}

/** Sets the replication mode on the primary and waits until the standby reports it. */
async function setMode(cfg: StackConfig, superuserUrl: string, mode: ReplicationMode): Promise<void> {
  await withClient(superuserUrl, async (c) => {
    await c.query(mode === 'sync' ? `ALTER SYSTEM SET synchronous_standby_names = '${REPLICA_NAME}'` : 'ALTER SYSTEM RESET synchronous_standby_names');
    await c.query('ALTER SYSTEM SET synchronous_commit = on');
    await c.query('SELECT pg_reload_conf()');
  });
  const want = mode === 'sync' ? 'sync' : 'async';
  for (let i = 0; i < 100; i++) {
    if ((await replicaState(cfg, superuserUrl)).syncState === want) return;
    await sleep(100);
  }
  throw new Error(`the standby did not become ${want} within 10 s`);
}

/**
 * A bulk writer beside the row stream (~1 MB of WAL per statement, 2 connections): a write mix, not a trickle, so
 * the standby has WAL to trail when the primary dies. Stops at the first error (the kill).
 */
function startBallast(superuserUrl: string): { stop: () => Promise<void> } {
  let stopping = false;
  const loop = async () => {
    const c = new pg.Client({ connectionString: superuserUrl });
    c.on('error', () => {}); // the kill drops the connection; the pending query reports it
    try {
      await c.connect();
      while (!stopping) await c.query(`INSERT INTO ${DRILL_SCHEMA}.ballast (payload) SELECT repeat(md5(random()::text), 32) FROM generate_series(1, 1000)`);
    } catch {
      // the primary was killed
    } finally {
      await c.end().catch(() => {});
    }
  };
  const done = [loop(), loop()];
  return { stop: async () => void ((stopping = true), await Promise.all(done)) };
}

/** SIGKILL to the postmaster and at once to every process of its data folder (backends, WAL sender). */
function killPrimary(cfg: StackConfig): void {
  const pid = postgresRunning(cfg);
  if (pid === null) throw new Error('the drill stack\'s primary is not running');
  process.kill(pid, 'SIGKILL');
  for (const p of processesInDir(stackPaths(cfg).data)) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** The failover drill on a running stack with a streaming replica (cfg.replica). Leaves the primary dead and the standby promoted. */
export async function failoverDrill(cfg: StackConfig, mode: ReplicationMode, log: Log = () => {}, rowsBeforeKill = 300): Promise<FailoverResult> {
  const secrets = stackSecrets(cfg);
  const urls = connectionStrings(cfg, secrets);
  const su = connectionStrings(cfg, secrets, 'postgres').superuserDirect;
  const promotedApp = urls.appDirect.replace(`:${cfg.pgPort}/`, `:${cfg.replicaPort}/`);
  const promotedSu = urls.superuserDirect.replace(`:${cfg.pgPort}/`, `:${cfg.replicaPort}/`);
  await withClient(urls.superuserDirect, async (c) => {
    await ensureDrillTables(c, 'pgkit_app');
    await c.query(`CREATE TABLE IF NOT EXISTS ${DRILL_SCHEMA}.ballast (id bigserial PRIMARY KEY, payload text NOT NULL)`);
  });
  await setMode(cfg, su, mode);
  await waitStreaming(cfg, su);
  const runId = `failover-${mode}-${Date.now()}`;
  log(`failover drill (${mode} replication): 4 clients write rows to the primary beside 2 bulk writers`);
  const writers = new AckWriters(urls.appDirect, runId).start();
  const ballast = startBallast(urls.superuserDirect);
  let killedAt = 0;
  let state: Awaited<ReturnType<typeof replicaState>>;
  const timing = { promoteMs: 0, firstWriteMs: 0 };
  try {
    await writers.waitForAcks(rowsBeforeKill);
    state = await replicaState(cfg, su);
    killedAt = performance.now();
    killPrimary(cfg);
    log(`  primary killed (kill -9) after ${writers.acked.size} acknowledged rows; standby was ${state.syncState}, ${state.lagBytes ?? '?'} bytes behind`);
    await promoteReplica(cfg);
    timing.promoteMs = performance.now() - killedAt;
    // The first write that commits on the promoted standby ends the outage.
    for (let attempt = 0; ; attempt++) {
      try {
        await withClient(promotedApp, (c) => c.query(`INSERT INTO ${DRILL_SCHEMA}.acks (run_id, id, worker) VALUES ($1, 0, -1)`, [`${runId}-first-write`]));
        break;
      } catch (e) {
        if (attempt > 600) throw new Error(`no write succeeded on the promoted standby within 60 s: ${(e as Error).message}`);
        await sleep(100);
      }
    }
    timing.firstWriteMs = performance.now() - killedAt;
  } finally {
    await writers.stop();
    await ballast.stop();
  }
  const present = await presentIds(promotedSu, runId);
  const check = checkAcknowledged(writers.acked, present);
  const failures: string[] = [];
  const { lost } = check;
  if (mode === 'sync' && lost.length > 0) failures.push(`failover (sync): ${lost.length} acknowledged row(s) LOST with synchronous replication (ids ${lost.slice(0, 10).join(', ')}): the RPO must be 0`);
  if (mode === 'sync' && state!.syncState !== 'sync') failures.push(`failover (sync): the standby was ${state!.syncState}, not sync, at the kill: the run proves nothing`);
  if (check.acknowledged < rowsBeforeKill) failures.push(`failover (${mode}): only ${check.acknowledged} rows acknowledged before the kill`);
  const result: FailoverResult = {
    mode,
    ok: failures.length === 0,
    failures,
    acknowledged: check.acknowledged,
    lost: lost.length,
    lostIds: lost.slice(0, 20),
    unknown: writers.unknown.size,
    unknownPresent: [...writers.unknown].filter((id) => present.has(id)).length,
    syncStateAtKill: state!.syncState,
    lagBytesAtKill: state!.lagBytes,
    rtoMs: timing.firstWriteMs,
    promoteMs: timing.promoteMs,
    firstWriteMs: timing.firstWriteMs,
  };
  log(`  ${mode}: RPO ${result.lost} of ${result.acknowledged} acknowledged rows lost; RTO ${(result.rtoMs / 1000).toFixed(2)} s (promoted after ${(result.promoteMs / 1000).toFixed(2)} s)`);
  return result;
}

/**
 * Both runs, each on a fresh private stack with a replica (made, drilled, stopped and removed): the user's stack is
 * never touched. `migrate` applies the schema to each drill stack.
 */
export async function runFailoverDrills(
  baseDir: string,
  o: { migrate: (url: string) => Promise<void>; log?: Log; modes?: ReplicationMode[]; /** Acknowledged rows before the kill (default 300). */ rowsBeforeKill?: number },
): Promise<FailoverResult[]> {
  const log = o.log ?? (() => {});
  const out: FailoverResult[] = [];
  for (const mode of o.modes ?? (['async', 'sync'] as const)) {
    const { cfg, release } = await failoverStack(baseDir, mode);
    try {
      log(`starting a private stack with a replica for the ${mode} failover drill in ${cfg.home}`);
      await startStack(cfg, { log: (l) => log(`  [drill stack] ${l}`), migrate: o.migrate, replicaSharedBuffers: '128MB' });
      out.push(await failoverDrill(cfg, mode, log, o.rowsBeforeKill));
    } finally {
      await stopStack(cfg).catch(() => {});
      // The killed primary's processes are gone; anything left of them must not outlive the folder.
      for (const p of processesInDir(stackPaths(cfg).data)) if (isAlive(p)) process.kill(p, 'SIGKILL');
      removeStackFiles(cfg);
      release();
    }
  }
  return out;
}
