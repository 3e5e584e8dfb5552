// Scratch clusters for the drills: a pgBackRest restore or a fresh initdb in their own folder and on their
// own port, started, queried, stopped and removed, never touching the stack they came from.
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { userInfo } from 'node:os';
import pg from 'pg';
import type { StackConfig } from '../config.js';
import { stackPaths } from '../config.js';
import { portIsFree } from '../proc/ports.js';
import { run, runStep, StepError } from '../proc/run.js';
import { isAlive, osUserIds, processesInDir, sleep } from '../proc/system.js';
import { pgBin, renderHba, renderIdent, renderPostgresConf } from '../local/render.js';

export interface ScratchCluster {
  /** The scratch cluster's own folder (removed by `remove`). */
  dir: string;
  data: string;
  port: number;
  host: string;
  osUser: string | null;
  adminUser: string;
  adminPassword: string;
  database: string;
  logFile: string;
}

/** A folder the servers' OS user owns (mode 0700), created fresh. */
export function ownedDir(path: string, osUser: string | null): string {
  rmSync(path, { recursive: true, force: true });
  const first = mkdirSync(path, { recursive: true, mode: 0o700 });
  const ids = osUserIds(osUser);
  // Every folder created here (parents included) is the servers' user's, or it could not get through them.
  if (ids && first) {
    for (let d = path; ; d = dirname(d)) {
      chownSync(d, ids.uid, ids.gid);
      if (d === first || d === dirname(d)) break;
    }
  }
  return path;
}

export function writeOwnedFile(path: string, content: string, osUser: string | null) {
  writeFileSync(path, content, { mode: 0o600 });
  const ids = osUserIds(osUser);
  if (ids) chownSync(path, ids.uid, ids.gid);
}

export function scratchCluster(source: StackConfig, adminPassword: string, dir: string, port: number): ScratchCluster {
  return {
    dir,
    data: join(dir, 'pgdata'),
    port,
    host: source.host,
    osUser: source.osUser,
    adminUser: source.superUser,
    adminPassword,
    database: source.database,
    logFile: join(dir, 'postgresql.log'),
  };
}

export const clusterUrl = (c: ScratchCluster, database = c.database) =>
  `postgresql://${c.adminUser}:${encodeURIComponent(c.adminPassword)}@${c.host}:${c.port}/${database}`;

/**
 * Server settings for a scratch cluster: the stack's own settings rendered for its folder and port, then
 * what a scratch copy must not do — archive into the source stack's repository, or run the source's
 * scheduled jobs (which would change the data being verified).
 */
export function scratchServerConf(source: StackConfig, c: ScratchCluster, opts: { keepCron: boolean }): string {
  const base = renderPostgresConf({ ...source, home: c.dir, pgPort: c.port });
  return `${base.replace(`unix_socket_directories = '${join(c.dir, 'run')}'`, `unix_socket_directories = '${c.dir}'`)}
# ---- scratch cluster overrides (src/drills/cluster.ts) ----
# Only the drill's own verification connects, over loopback; the stack's certificate stays with the stack.
ssl = off
archive_mode = off
archive_command = ''
${
  opts.keepCron
    ? // pg_cron must be loaded for CREATE EXTENSION pg_cron (a logical restore); no job may start meanwhile.
      "cron.max_running_jobs = 0\n"
    : // The cron schema and its jobs are kept (they are data), but the scheduler does not run here.
      "shared_preload_libraries = 'pg_stat_statements'\ncron.database_name = '" + source.database + "'\n"
}shared_buffers = 128MB
`;
}

export function writeScratchConfig(source: StackConfig, c: ScratchCluster, opts: { keepCron: boolean }) {
  writeOwnedFile(join(c.data, 'pgkit.conf'), scratchServerConf(source, c, opts), c.osUser);
  writeOwnedFile(join(c.data, 'pg_hba.conf'), renderHba(), c.osUser);
  writeOwnedFile(join(c.data, 'pg_ident.conf'), renderIdent(c.osUser ?? userInfo().username), c.osUser);
}

/** A new empty cluster (for a logical restore), with the source stack's admin password. */
export async function initScratch(source: StackConfig, c: ScratchCluster): Promise<void> {
  ownedDir(c.dir, c.osUser);
  const pw = join(c.dir, 'pw');
  writeOwnedFile(pw, c.adminPassword + '\n', c.osUser);
  try {
    await runStep('initdb (scratch cluster)', pgBin('initdb'), ['-D', c.data, '-U', c.adminUser, `--pwfile=${pw}`, '--auth-local=peer', '--auth-host=scram-sha-256', '--encoding=UTF8', '--locale=C.UTF-8', '--data-checksums'], { osUser: c.osUser });
  } finally {
    rmSync(pw, { force: true });
  }
  const conf = join(c.data, 'postgresql.conf');
  writeFileSync(conf, readFileSync(conf, 'utf8') + "\ninclude = 'pgkit.conf'\n");
  writeScratchConfig(source, c, { keepCron: true });
}

export async function startScratch(c: ScratchCluster, timeoutS = 3600): Promise<void> {
  if (!(await portIsFree(c.host, c.port))) {
    throw new StepError('scratch cluster port', `${c.host}:${c.port} is in use: stop what listens there or pass another port (--restore-port)`);
  }
  const r = await run(pgBin('pg_ctl'), ['-D', c.data, '-l', c.logFile, '-w', '-t', String(timeoutS), 'start'], { osUser: c.osUser });
  if (r.code !== 0) {
    const tail = existsSync(c.logFile) ? readFileSync(c.logFile, 'utf8').trim().split('\n').slice(-25).join('\n') : '(no log)';
    throw new StepError('start scratch cluster', `pg_ctl exited with ${r.code}. Last lines of ${c.logFile}:\n${tail}`);
  }
}

/** Waits until the cluster accepts connections and has left recovery (promotion done). */
export async function waitWritable(c: ScratchCluster, timeoutMs = 3_600_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < until) {
    const client = new pg.Client({ connectionString: clusterUrl(c, 'postgres') });
    try {
      await client.connect();
      const r = await client.query<{ rec: boolean }>('SELECT pg_is_in_recovery() AS rec');
      if (!r.rows[0].rec) return;
      last = 'still in recovery';
    } catch (e) {
      last = (e as Error).message;
    } finally {
      await client.end().catch(() => {});
    }
    await sleep(100);
  }
  const tail = existsSync(c.logFile) ? readFileSync(c.logFile, 'utf8').trim().split('\n').slice(-25).join('\n') : '(no log)';
  throw new StepError('recovery', `the restored cluster did not finish recovery (${last}). Last lines of ${c.logFile}:\n${tail}`);
}

export async function stopScratch(c: ScratchCluster): Promise<void> {
  if (!existsSync(join(c.data, 'postmaster.pid'))) return;
  const r = await run(pgBin('pg_ctl'), ['-D', c.data, '-m', 'immediate', '-w', '-t', '60', 'stop'], { osUser: c.osUser });
  if (r.code !== 0) {
    // It may never have started; make sure nothing of it is left running.
    for (const pid of processesInDir(c.data)) if (pid !== process.pid && isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
}

/** Stops and deletes the scratch cluster. Safe to call twice and after a failed start. */
export async function removeScratch(c: ScratchCluster): Promise<void> {
  await stopScratch(c).catch(() => {});
  rmSync(c.dir, { recursive: true, force: true });
}

export { withClient } from '../db/client.js';

/** Bytes under a folder (du -sb), as the servers' user sees it. */
export async function folderBytes(path: string): Promise<number> {
  const r = await runStep('du', 'du', ['-sb', path]);
  return Number(r.stdout.split(/\s+/)[0]);
}

/**
 * The baseline the RTO goal is measured against: a raw `cp -a` of the stack's data folder (what copying the
 * files back would cost, without any backup tool), timed in the same run and then deleted.
 */
export async function timeRawCopy(cfg: StackConfig, into: string): Promise<{ ms: number; bytes: number }> {
  const dest = join(into, 'rawcopy');
  ownedDir(into, cfg.osUser);
  const bytes = await folderBytes(stackPaths(cfg).data);
  const t0 = performance.now();
  // A running cluster's files copied this way are not a consistent backup: only the time is used.
  const r = await run('cp', ['-a', stackPaths(cfg).data, dest], { osUser: cfg.osUser });
  await run('sync', ['-f', into]);
  const ms = performance.now() - t0;
  rmSync(dest, { recursive: true, force: true });
  // cp may complain about files the server removed meanwhile (WAL, temp files): the timing still stands.
  if (r.code !== 0 && !/No such file/.test(r.stderr)) throw new StepError('raw copy', r.stderr.trim());
  return { ms, bytes };
}
