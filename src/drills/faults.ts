// Fault drills, run on a private stack instance (never the shared test stack, never the user's stack):
// kill -9 of the postmaster under write load, a PgBouncer restart under write load, and a broken WAL archive.
// The writers' acknowledged ids are the record: every one of them must be in the table afterwards.
import { chmodSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { StackConfig } from '../config.js';
import { stackPaths } from '../config.js';
import { isAlive, sleep } from '../proc/system.js';
import { connectionStrings, pgbouncerRunning, postgresRunning, stackSecrets, startStack } from '../local/stack.js';
import { withClient } from './cluster.js';
import { AckWriters, DRILL_SCHEMA, ensureDrillTables } from './load.js';
import * as backrest from './pgbackrest.js';
import { checkAcknowledged } from './verify.js';

export interface WriteFaultResult {
  name: string;
  ok: boolean;
  failures: string[];
  acknowledged: number;
  lost: number;
  /** Attempts whose outcome the client never learned, and how many of them did commit. */
  unknown: number;
  unknownCommitted: number;
  /** Longest time the writers could not write, and the time the restart itself took. */
  maxOutageMs: number;
  restartMs: number;
  errorsSeen: string[];
}

export interface ArchiveFaultResult {
  name: string;
  ok: boolean;
  failures: string[];
  detectedAfterMs: number | null;
  reported: string | null;
  checkExitCode: number;
  checkMessage: string;
  recoveredAfterMs: number | null;
}

type Log = (l: string) => void;

/** The ids of a writers' run present in a server's acks table. */
export async function presentIds(url: string, runId: string): Promise<Set<number>> {
  return withClient(url, async (c) => new Set((await c.query<{ id: string }>(`SELECT id FROM ${DRILL_SCHEMA}.acks WHERE run_id = $1`, [runId])).rows.map((r) => Number(r.id))));
}

async function writeFault(
  cfg: StackConfig,
  name: string,
  writerUrl: string,
  fault: () => Promise<void>,
  restart: () => Promise<void>,
  log: Log,
): Promise<WriteFaultResult> {
  const urls = connectionStrings(cfg, stackSecrets(cfg));
  const runId = `${name}-${Date.now()}`;
  const writers = new AckWriters(writerUrl, runId).start();
  let restartMs = 0;
  try {
    await writers.waitForAcks(200);
    await fault();
    await sleep(500); // the writers hit the fault
    const r0 = performance.now();
    await restart();
    restartMs = performance.now() - r0;
    await writers.waitForAcks(200, 120_000); // the clients recovered
  } finally {
    await writers.stop();
  }
  const present = await presentIds(urls.superuserDirect, runId);
  const check = checkAcknowledged(writers.acked, present);
  const unknownCommitted = [...writers.unknown].filter((id) => present.has(id)).length;
  const failures: string[] = [];
  if (!check.ok) failures.push(`${name}: ${check.lost.length} acknowledged write(s) LOST (ids ${check.lost.slice(0, 10).join(', ')})`);
  if (writers.errors.length === 0) failures.push(`${name}: the writers saw no error: the fault did not hit the load, so the drill proves nothing`);
  const result: WriteFaultResult = {
    name,
    ok: failures.length === 0,
    failures,
    acknowledged: check.acknowledged,
    lost: check.lost.length,
    unknown: writers.unknown.size,
    unknownCommitted,
    maxOutageMs: Math.max(0, ...writers.outagesMs),
    restartMs,
    errorsSeen: [...new Set(writers.errors.map((e) => e.message))].slice(0, 5),
  };
  log(`  ${name}: ${result.acknowledged} acknowledged, ${result.lost} lost, ${result.unknown} unknown (${unknownCommitted} committed), outage ${(result.maxOutageMs / 1000).toFixed(1)} s`);
  return result;
}

/** kill -9 of the postmaster while 4 clients write directly; then the stack's start (crash recovery). */
export async function killPostmasterDrill(cfg: StackConfig, log: Log = () => {}): Promise<WriteFaultResult> {
  const urls = connectionStrings(cfg, stackSecrets(cfg));
  await withClient(urls.superuserDirect, (c) => ensureDrillTables(c, 'pgkit_app'));
  log('fault drill: kill -9 of the postmaster during a write load');
  return writeFault(
    cfg,
    'kill -9 postmaster',
    urls.appDirect,
    async () => {
      const pid = postgresRunning(cfg);
      if (pid === null) throw new Error('PostgreSQL of the drill stack is not running');
      process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 50 && isAlive(pid); i++) await sleep(50);
    },
    async () => void (await startStack(cfg, { log: (l) => log(`    [stack] ${l}`) })),
    log,
  );
}

/** PgBouncer stopped (immediate shutdown, SIGTERM) and started while 4 clients write through it. */
export async function restartPgbouncerDrill(cfg: StackConfig, log: Log = () => {}): Promise<WriteFaultResult> {
  const urls = connectionStrings(cfg, stackSecrets(cfg));
  await withClient(urls.superuserDirect, (c) => ensureDrillTables(c, 'pgkit_app'));
  log('fault drill: PgBouncer restarted during a write load through it');
  return writeFault(
    cfg,
    'PgBouncer restart',
    urls.appPooled,
    async () => {
      const pid = pgbouncerRunning(cfg);
      if (pid === null) throw new Error('PgBouncer of the drill stack is not running');
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(50);
    },
    async () => void (await startStack(cfg, { log: (l) => log(`    [stack] ${l}`) })),
    log,
  );
}

/**
 * The repository becomes unwritable (as when its disk is full or unmounted): the failure must be reported
 * by archiveHealth and by `pgbackrest check` within seconds, and archiving must catch up once it is fixed.
 */
export async function archiveFailureDrill(cfg: StackConfig, log: Log = () => {}, detectWithinMs = 60_000): Promise<ArchiveFaultResult> {
  const urls = connectionStrings(cfg, stackSecrets(cfg));
  const name = 'archive failure';
  const failures: string[] = [];
  const archiveDir = join(stackPaths(cfg).backrestRepo, 'archive', cfg.stanza);
  const mode = statSync(archiveDir).mode & 0o7777;
  log('fault drill: the WAL archive becomes unwritable');
  let detectedAfterMs: number | null = null;
  let reported: string | null = null;
  let ck = { code: 0, stdout: '', stderr: '' };
  let recoveredAfterMs: number | null = null;
  await withClient(urls.superuserDirect, async (c) => {
    await backrest.switchAndWaitArchived(c);
    chmodSync(archiveDir, 0o000);
    const t0 = Date.now();
    try {
      while (Date.now() - t0 < detectWithinMs) {
        await c.query(`CREATE TABLE IF NOT EXISTS ${DRILL_SCHEMA}.archive_probe (v int); INSERT INTO ${DRILL_SCHEMA}.archive_probe VALUES (1); SELECT pg_switch_wal()`);
        const h = await backrest.archiveHealth(c, cfg);
        if (!h.ok) {
          detectedAfterMs = Date.now() - t0;
          reported = h.message;
          break;
        }
        await sleep(500);
      }
      ck = await backrest.check(cfg, 5);
    } finally {
      chmodSync(archiveDir, mode);
    }
    const r0 = Date.now();
    try {
      await backrest.switchAndWaitArchived(c, 120_000);
      const h = await backrest.archiveHealth(c, cfg);
      if (h.ok) recoveredAfterMs = Date.now() - r0;
    } catch (e) {
      failures.push(`${name}: archiving did not recover after the repository was fixed: ${(e as Error).message}`);
    }
  });
  const checkMessage = `${ck.stdout}${ck.stderr}`.trim().split('\n').filter((l) => /ERROR|WARN/.test(l)).slice(0, 3).join('\n');
  if (detectedAfterMs === null) failures.push(`${name}: the failure was NOT detected within ${detectWithinMs / 1000} s (silent archive failure)`);
  if (ck.code === 0) failures.push(`${name}: \`pgbackrest check\` succeeded while the repository was unwritable`);
  log(`  ${name}: detected after ${detectedAfterMs === null ? 'never' : `${(detectedAfterMs / 1000).toFixed(1)} s`}; check exit ${ck.code}; recovered after ${recoveredAfterMs === null ? 'never' : `${(recoveredAfterMs / 1000).toFixed(1)} s`}`);
  return { name, ok: failures.length === 0, failures, detectedAfterMs, reported, checkExitCode: ck.code, checkMessage, recoveredAfterMs };
}
