// pgBackRest for a pgkit stack: backups of each type, check, verify, info, archive health, and restores into
// a scratch folder (with their own pgBackRest config, so the restored cluster never writes to the stack's
// locks, spool or logs, and never archives into its repository).
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { StackConfig } from '../config.js';
import { PG_INSTALL, stackPaths } from '../config.js';
import { run, runStep, StepError } from '../proc/run.js';
import { sleep } from '../proc/system.js';
import { ownedDir, writeOwnedFile, type ScratchCluster } from './cluster.js';
import { renderRestoredBackrestConf } from '../local/render.js';

export type BackupType = 'full' | 'diff' | 'incr';

export function backrestArgs(cfg: StackConfig, ...rest: string[]): string[] {
  return [`--config=${stackPaths(cfg).backrestConf}`, `--stanza=${cfg.stanza}`, ...rest];
}

export async function backrest(cfg: StackConfig, step: string, ...args: string[]) {
  return runStep(`pgBackRest ${step}`, PG_INSTALL.pgbackrest, backrestArgs(cfg, ...args), { osUser: cfg.osUser });
}

export interface BackupInfo {
  label: string;
  type: BackupType;
  startedAt: Date;
  stoppedAt: Date;
  /** Database size at backup time, and what the repository stores for this backup (compressed, delta). */
  databaseBytes: number;
  repoDeltaBytes: number;
  prior: string | null;
}

interface RawInfo {
  name: string;
  status: { code: number; message: string };
  backup: Array<{
    label: string;
    type: BackupType;
    timestamp: { start: number; stop: number };
    info: { size: number; delta: number; repository: { size: number; delta: number } };
    prior: string | null;
  }>;
  archive: Array<{ min: string | null; max: string | null }>;
}

export async function info(cfg: StackConfig): Promise<{ status: string; backups: BackupInfo[]; archiveMin: string | null; archiveMax: string | null }> {
  const r = await backrest(cfg, 'info', '--output=json', 'info');
  const parsed = (JSON.parse(r.stdout) as RawInfo[]).find((s) => s.name === cfg.stanza);
  if (!parsed) throw new StepError('pgBackRest info', `stanza '${cfg.stanza}' not found in the repository: start the stack (\`npm start\`), which creates it`);
  return {
    status: parsed.status.message,
    backups: parsed.backup.map((b) => ({
      label: b.label,
      type: b.type,
      startedAt: new Date(b.timestamp.start * 1000),
      stoppedAt: new Date(b.timestamp.stop * 1000),
      databaseBytes: b.info.size,
      repoDeltaBytes: b.info.repository.delta,
      prior: b.prior,
    })),
    archiveMin: parsed.archive[0]?.min ?? null,
    archiveMax: parsed.archive[0]?.max ?? null,
  };
}

/** One backup; returns its label and duration. A full backup also applies the retention policy (expire). */
export async function backup(cfg: StackConfig, type: BackupType): Promise<{ type: BackupType; label: string; ms: number }> {
  const t0 = performance.now();
  await backrest(cfg, `${type} backup`, `--type=${type}`, 'backup');
  const ms = performance.now() - t0;
  const all = (await info(cfg)).backups;
  return { type, label: all[all.length - 1].label, ms };
}

/** `check`: the archive_command works and WAL reaches the repository (within `archiveTimeoutS`). */
export async function check(cfg: StackConfig, archiveTimeoutS = 30) {
  return run(PG_INSTALL.pgbackrest, backrestArgs(cfg, `--archive-timeout=${archiveTimeoutS}`, 'check'), { osUser: cfg.osUser });
}

/** `verify`: every file of every backup and archived WAL segment is read back and its checksum compared. */
export async function verifyRepo(cfg: StackConfig) {
  return run(PG_INSTALL.pgbackrest, backrestArgs(cfg, '--log-level-console=info', 'verify'), { osUser: cfg.osUser });
}

export interface ArchiveHealth {
  ok: boolean;
  archivedCount: number;
  failedCount: number;
  lastArchivedWal: string | null;
  lastArchivedAt: Date | null;
  lastFailedWal: string | null;
  lastFailedAt: Date | null;
  /** WAL segments waiting to be archived (pg_wal/archive_status/*.ready). */
  pending: number;
  /** What is wrong and what to do, when not ok. */
  message: string | null;
}

/** Archiving is failing when the last failure is newer than the last success (pg_stat_archiver). */
export async function archiveHealth(c: Pick<pg.ClientBase, 'query'>, cfg?: StackConfig): Promise<ArchiveHealth> {
  const r = await c.query<{
    archived_count: string;
    failed_count: string;
    last_archived_wal: string | null;
    last_archived_time: Date | null;
    last_failed_wal: string | null;
    last_failed_time: Date | null;
    pending: string;
  }>(
    `SELECT archived_count, failed_count, last_archived_wal, last_archived_time, last_failed_wal, last_failed_time,
            (SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready') AS pending
       FROM pg_stat_archiver`,
  );
  const a = r.rows[0];
  const failing = a.last_failed_time !== null && (a.last_archived_time === null || a.last_failed_time > a.last_archived_time);
  const where = cfg ? ` Run \`pgbackrest --config=${stackPaths(cfg).backrestConf} --stanza=${cfg.stanza} check\` and read ${stackPaths(cfg).backrestLog} and the PostgreSQL log.` : '';
  return {
    ok: !failing,
    archivedCount: Number(a.archived_count),
    failedCount: Number(a.failed_count),
    lastArchivedWal: a.last_archived_wal,
    lastArchivedAt: a.last_archived_time,
    lastFailedWal: a.last_failed_wal,
    lastFailedAt: a.last_failed_time,
    pending: Number(a.pending),
    message: failing
      ? `WAL archiving is FAILING: segment ${a.last_failed_wal} failed at ${a.last_failed_time?.toISOString()} (last success: ${a.last_archived_wal ?? 'none'} at ${a.last_archived_time?.toISOString() ?? 'never'}); ${a.pending} segment(s) wait in pg_wal. Until this is fixed no point-in-time recovery past the last success is possible and pg_wal grows until the disk fills.${where}`
      : null,
  };
}

/** Forces a WAL switch and waits until that segment is in the repository. Returns the segment name. */
export async function switchAndWaitArchived(c: Pick<pg.ClientBase, 'query'>, timeoutMs = 60_000): Promise<string> {
  const r = await c.query<{ wal: string }>('SELECT pg_walfile_name(pg_switch_wal()) AS wal');
  const wal = r.rows[0].wal;
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const a = await c.query<{ last: string | null }>('SELECT last_archived_wal AS last FROM pg_stat_archiver');
    // Segment names of one timeline sort in WAL order; compare without the timeline prefix.
    if (a.rows[0].last && a.rows[0].last.slice(8) >= wal.slice(8)) return wal;
    await sleep(100);
  }
  const h = await archiveHealth(c);
  throw new StepError('archive', `WAL segment ${wal} was not archived within ${timeoutMs / 1000} s${h.message ? `: ${h.message}` : ''}`);
}

/** The pgBackRest config a restored cluster uses: the stack's repository, everything else its own. */
export function restoreConf(cfg: StackConfig, c: ScratchCluster): string {
  return renderRestoredBackrestConf(cfg, {
    header: 'Written by the pgkit drill for a scratch restore; removed with it.',
    dir: c.dir,
    data: c.data,
    port: c.port,
    socket: c.dir,
    processMax: Math.max(2, Math.min(8, availableParallelism())),
  });
}

export interface RestoreTarget {
  /** Restore to this moment (recovery_target_time); omit for the end of the archived WAL. */
  time?: Date;
}

/** `YYYY-MM-DD HH:MM:SS.mmm+00`, what recovery_target_time parses. */
export function pgTimestamp(d: Date): string {
  return d.toISOString().replace('T', ' ').replace('Z', '+00');
}

/**
 * pgBackRest restore into the scratch cluster's folder; recovery promotes at the target. Archiving stays off
 * in the restored cluster (--archive-mode=off): it must never push a new timeline into the stack's repository.
 */
export async function restoreInto(cfg: StackConfig, c: ScratchCluster, target: RestoreTarget): Promise<{ ms: number }> {
  ownedDir(c.dir, c.osUser);
  ownedDir(c.data, c.osUser);
  for (const d of ['backrest-log', 'backrest-lock', 'backrest-spool']) ownedDir(join(c.dir, d), c.osUser);
  const confPath = join(c.dir, 'pgbackrest.conf');
  writeOwnedFile(confPath, restoreConf(cfg, c), c.osUser);
  const args = [`--config=${confPath}`, `--stanza=${cfg.stanza}`, '--archive-mode=off'];
  if (target.time) args.push('--type=time', `--target=${pgTimestamp(target.time)}`, '--target-action=promote');
  else args.push('--type=default');
  const t0 = performance.now();
  await runStep('pgBackRest restore', PG_INSTALL.pgbackrest, [...args, 'restore'], { osUser: c.osUser });
  return { ms: performance.now() - t0 };
}
