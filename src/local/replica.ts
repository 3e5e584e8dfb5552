// The local stack's read replica: a hot standby restored from the stack's own pgBackRest backup
// (`pgbackrest restore --type=standby`), streaming from the primary over its private socket through a physical
// slot, on its own fixed port, run by the same OS user as the primary. Start is idempotent (a running replica is
// only checked), stop keeps its data, and a stopped replica catches up on its next start (from the slot, or from
// the pgBackRest archive when the primary has given the slot up).
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import pg from 'pg';
import type { StackConfig } from '../config.js';
import { envKey, PG_INSTALL, stackPaths } from '../config.js';
import { withClient } from '../db/client.js';
import { parseLsn } from '../db/lsn.js';
import { portIsFree } from '../proc/ports.js';
import { run, runStep, StepError } from '../proc/run.js';
import { isAlive, osUserIds, processName, sleep } from '../proc/system.js';
import { pgBin, renderHba, renderIdent, renderPostgresConf, renderRestoredBackrestConf, REPLICA_NAME, REPLICATION_ROLE } from './render.js';
import { ownedFolder, writeOwnedFile } from './files.js';

type Log = (line: string) => void;

export interface ReplicaUrls {
  /** The bootstrap superuser, straight to the replica (status, the drills). */
  superuserDirect: string;
}

/** The replica's server settings: the primary's, on its own port and socket, then what a standby needs. */
export function renderReplicaConf(cfg: StackConfig, opts: { sharedBuffers?: string } = {}): string {
  const p = stackPaths(cfg);
  const base = renderPostgresConf({ ...cfg, pgPort: cfg.replicaPort }).replace(`unix_socket_directories = '${p.run}'`, `unix_socket_directories = '${p.replicaRun}'`);
  return `${base}
# ---- read replica (src/local/replica.ts) ----
# A standby never archives; if it is promoted (the failover drill) it must not push a second timeline into the
# primary's repository either.
archive_mode = off
archive_command = ''
hot_standby = on
# Streams from the primary's private socket as the replication-only login (peer auth, no password).
primary_conninfo = 'host=${p.run} port=${cfg.pgPort} user=${REPLICATION_ROLE} application_name=${REPLICA_NAME}'
primary_slot_name = '${REPLICA_NAME}'
# Lag is reported to the primary every second (pg_stat_replication), what npm run status shows.
wal_receiver_status_interval = 1s
# Reads on the replica are not cancelled by the primary's vacuum (the primary keeps those rows a little longer).
hot_standby_feedback = on
max_standby_streaming_delay = 30s
${opts.sharedBuffers ? `shared_buffers = ${opts.sharedBuffers}\n` : ''}`;
}

/** The pgBackRest config the replica's restore and archive-get use: the stack's repository, the rest its own. */
export function renderReplicaBackrestConf(cfg: StackConfig): string {
  const p = stackPaths(cfg);
  return renderRestoredBackrestConf(cfg, {
    header: 'Written by pgkit (src/local/replica.ts): the read replica reads the stack\'s repository, never writes to it.',
    dir: p.replicaHome,
    data: p.replicaData,
    port: cfg.replicaPort,
    socket: p.replicaRun,
    processMax: 2,
  });
}

export function replicaUrls(cfg: StackConfig, superuserPassword: string, database = 'postgres'): ReplicaUrls {
  return { superuserDirect: `postgresql://${cfg.superUser}:${encodeURIComponent(superuserPassword)}@${cfg.host}:${cfg.replicaPort}/${database}` };
}

export function replicaRunning(cfg: StackConfig): number | null {
  const f = join(stackPaths(cfg).replicaData, 'postmaster.pid');
  if (!existsSync(f)) return null;
  const pid = Number(readFileSync(f, 'utf8').split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) && processName(pid).includes('postgres') ? pid : null;
}

function logTail(file: string, n = 20): string {
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').slice(-n).join('\n') : '(no log)';
}

/**
 * On the primary, as the superuser: the replication-only login and the replica's slot (reserving WAL from now),
 * and the primary's pg_hba.conf/pg_ident.conf with the replication line (a primary started before replicas
 * existed lacks it; a reload applies it, no restart).
 */
async function preparePrimary(cfg: StackConfig, primarySuperuserUrl: string, log: Log): Promise<void> {
  const p = stackPaths(cfg);
  const ids = osUserIds(cfg.osUser);
  writeOwnedFile(join(p.data, 'pg_hba.conf'), renderHba(), ids);
  writeOwnedFile(join(p.data, 'pg_ident.conf'), renderIdent(cfg.osUser ?? userInfo().username), ids);
  await withClient(primarySuperuserUrl, async (su) => {
    await su.query(`DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${REPLICATION_ROLE}') THEN
          CREATE ROLE ${REPLICATION_ROLE} LOGIN REPLICATION NOINHERIT;
        END IF;
      END $$`);
    await su.query(`COMMENT ON ROLE ${REPLICATION_ROLE} IS 'pgkit read replica: streams WAL over the private socket (peer auth), nothing else'`);
    await su.query("SELECT pg_create_physical_replication_slot($1, true) WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)", [REPLICA_NAME]);
    await su.query('SELECT pg_reload_conf()');
    const keep = await su.query<{ s: string }>("SELECT setting AS s FROM pg_settings WHERE name = 'max_slot_wal_keep_size'");
    if (keep.rows[0]?.s === '-1') {
      log('NOTE: the primary was started before replicas existed and keeps WAL for the replica\'s slot without a limit: restart it (`npm stop && npm start -- --replica`) so a replica left stopped cannot fill the disk (max_slot_wal_keep_size, src/local/render.ts)');
    }
  });
}

/**
 * The newest pgBackRest backup of the stack, taking a full one first when the repository holds none, and an
 * incremental one when more than `maxReplayBytes` of WAL were written since the newest (REPLICA_MAX_REPLAY_BYTES).
 */
async function ensureBackup(cfg: StackConfig, log: Log, primarySuperuserUrl: string, maxReplayBytes: number): Promise<string> {
  const p = stackPaths(cfg);
  const base = [`--config=${p.backrestConf}`, `--stanza=${cfg.stanza}`];
  const infoOf = async () => {
    const r = await runStep('pgBackRest info', PG_INSTALL.pgbackrest, [...base, '--output=json', 'info'], { osUser: cfg.osUser });
    const s = (JSON.parse(r.stdout) as Array<{ name: string; backup: Array<{ label: string; timestamp: { stop: number }; lsn?: { stop?: string } }> }>).find((x) => x.name === cfg.stanza);
    return s?.backup.at(-1) ?? null;
  };
  let newest = await infoOf();
  if (!newest) {
    log('the pgBackRest repository holds no backup yet: taking a full backup for the replica');
    await runStep('pgBackRest full backup', PG_INSTALL.pgbackrest, [...base, '--type=full', 'backup'], { osUser: cfg.osUser });
    newest = await infoOf();
    if (!newest) throw new StepError('replica', `pgBackRest reported no backup after a full backup: read ${p.backrestLog}`);
  } else if (newest.lsn?.stop) {
    const now = await withClient(primarySuperuserUrl, async (c) => (await c.query<{ l: string }>('SELECT pg_current_wal_lsn()::text AS l')).rows[0].l);
    const behind = parseLsn(now) - parseLsn(newest.lsn.stop);
    if (behind > BigInt(maxReplayBytes)) {
      log(`the newest backup (${newest.label}) is ${(Number(behind) / 1024 ** 3).toFixed(1)} GB of WAL behind the primary: taking an incremental backup first, so the replica does not replay all of it`);
      await runStep('pgBackRest incremental backup', PG_INSTALL.pgbackrest, [...base, '--type=incr', 'backup'], { osUser: cfg.osUser });
      newest = await infoOf();
      if (!newest) throw new StepError('replica', `pgBackRest reported no backup after an incremental backup: read ${p.backrestLog}`);
    }
  }
  const ageMin = (Date.now() / 1000 - newest.timestamp.stop) / 60;
  log(`restoring the replica from backup ${newest.label} (${ageMin < 1 ? 'under a minute' : `${ageMin.toFixed(0)} min`} old; the WAL since then comes from the archive and the stream)`);
  return newest.label;
}

/** Writes the replica's server files (every start: the primary's port may have changed). */
function writeReplicaConfig(cfg: StackConfig, sharedBuffers?: string) {
  const p = stackPaths(cfg);
  const ids = osUserIds(cfg.osUser);
  writeOwnedFile(join(p.replicaData, 'pgkit.conf'), renderReplicaConf(cfg, { sharedBuffers }), ids);
  writeOwnedFile(join(p.replicaData, 'pg_hba.conf'), renderHba(), ids);
  writeOwnedFile(join(p.replicaData, 'pg_ident.conf'), renderIdent(cfg.osUser ?? userInfo().username), ids);
}

async function restoreStandby(cfg: StackConfig, log: Log, primarySuperuserUrl: string, maxReplayBytes: number): Promise<void> {
  const p = stackPaths(cfg);
  const ids = osUserIds(cfg.osUser);
  rmSync(p.replicaHome, { recursive: true, force: true });
  for (const d of [p.replicaHome, p.replicaData, p.replicaRun, join(p.replicaHome, 'backrest-log'), join(p.replicaHome, 'backrest-lock'), join(p.replicaHome, 'backrest-spool')]) ownedFolder(d, ids);
  writeOwnedFile(p.replicaBackrestConf, renderReplicaBackrestConf(cfg), ids);
  await ensureBackup(cfg, log, primarySuperuserUrl, maxReplayBytes);
  // --type=standby: standby.signal, and a restore_command reading the stack's archive (archive-get) for what the
  // slot no longer holds. --archive-mode=off: the copy never archives into the primary's repository.
  await runStep('pgBackRest restore (standby)', PG_INSTALL.pgbackrest, [`--config=${p.replicaBackrestConf}`, `--stanza=${cfg.stanza}`, '--type=standby', '--archive-mode=off', 'restore'], { osUser: cfg.osUser });
  // A backup's postmaster.pid/recovery files never come back, but its postgresql.auto.conf does; the stack's
  // include line is in its postgresql.conf, also restored.
  const conf = readFileSync(join(p.replicaData, 'postgresql.conf'), 'utf8');
  if (!conf.includes("include = 'pgkit.conf'")) writeFileSync(join(p.replicaData, 'postgresql.conf'), `${conf}\ninclude = 'pgkit.conf'\n`);
}

export interface ReplicaState {
  running: boolean;
  pid: number | null;
  /** As the primary sees it (pg_stat_replication): streaming, catchup, or null when not connected. */
  state: string | null;
  syncState: string | null;
  /** Bytes of WAL the replica has not replayed yet, and the time its replay trails (replay_lag). */
  lagBytes: number | null;
  replayLagMs: number | null;
}

/** The replica as the primary sees it. */
export async function replicaState(cfg: StackConfig, primarySuperuserUrl: string | null): Promise<ReplicaState> {
  const pid = replicaRunning(cfg);
  const none: ReplicaState = { running: pid !== null, pid, state: null, syncState: null, lagBytes: null, replayLagMs: null };
  if (primarySuperuserUrl === null) return none;
  const r = await withClient(primarySuperuserUrl, (c) =>
    c.query<{ state: string; sync_state: string; lag_bytes: string | null; replay_lag_ms: number | null }>(
      `SELECT state, sync_state, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint::text AS lag_bytes,
              (extract(epoch FROM replay_lag) * 1000)::float8 AS replay_lag_ms
         FROM pg_stat_replication WHERE application_name = $1 ORDER BY backend_start DESC LIMIT 1`,
      [REPLICA_NAME],
    )).catch(() => null);
  const row = r?.rows[0];
  if (!row) return none;
  return { ...none, state: row.state, syncState: row.sync_state, lagBytes: row.lag_bytes === null ? null : Number(row.lag_bytes), replayLagMs: row.replay_lag_ms ?? 0 };
}

/** Waits until the replica accepts connections, is in recovery, and streams from the primary. */
export async function waitStreaming(cfg: StackConfig, primarySuperuserUrl: string, timeoutMs = 120_000): Promise<ReplicaState> {
  const until = Date.now() + timeoutMs;
  let last: ReplicaState | null = null;
  while (Date.now() < until) {
    last = await replicaState(cfg, primarySuperuserUrl);
    if (last.state === 'streaming' && last.lagBytes !== null) return last;
    await sleep(200);
  }
  throw new StepError('replica', `the replica is not streaming from the primary after ${timeoutMs / 1000} s (state ${last?.state ?? 'not connected'}). Last lines of ${stackPaths(cfg).replicaLog}:\n${logTail(stackPaths(cfg).replicaLog)}`);
}

export interface StartReplicaOptions {
  log?: Log;
  /** The primary's superuser URL (the stack's connection strings). */
  primarySuperuserUrl: string;
  /** shared_buffers of the replica; default the primary's (the throwaway stacks of tests and drills pass 128MB). */
  sharedBuffers?: string;
  /** WAL since the newest backup beyond which a new incremental backup is taken before the restore (default REPLICA_MAX_REPLAY_BYTES). */
  maxReplayBytes?: number;
}

/**
 * A replica restored from an old backup replays every WAL segment archived since, from the repository, before it can
 * stream: on 2026-12-06 a backup 11 hours old meant ~2,300 segments (the day's scale seeds), and `npm start --
 * --replica` gave up waiting after 120 s while the replay went on for 5 minutes more. Past this much WAL since the
 * newest backup, an incremental backup (only the files changed since) is taken first and the replica restored from it.
 */
export const REPLICA_MAX_REPLAY_BYTES = 1024 ** 3;

/**
 * Starts the replica, restoring it first when it has no data. Returns whether it was started (false: it was
 * running, and is only checked to stream).
 */
export async function startReplica(cfg: StackConfig, o: StartReplicaOptions): Promise<{ started: boolean; restored: boolean; state: ReplicaState }> {
  const log = o.log ?? (() => {});
  const p = stackPaths(cfg);
  await preparePrimary(cfg, o.primarySuperuserUrl, log);
  if (replicaRunning(cfg) !== null) return { started: false, restored: false, state: await waitStreaming(cfg, o.primarySuperuserUrl) };
  let restored = false;
  if (!existsSync(join(p.replicaData, 'PG_VERSION'))) {
    await restoreStandby(cfg, log, o.primarySuperuserUrl, o.maxReplayBytes ?? REPLICA_MAX_REPLAY_BYTES);
    restored = true;
  } else if (!existsSync(join(p.replicaData, 'standby.signal'))) {
    throw new StepError(
      'replica',
      `${p.replicaData} holds a cluster that is no longer a standby (it was promoted). Keep what you need from it, then remove ${p.replicaHome} and start again: a new replica is restored from the stack's backup`,
    );
  }
  for (const d of [p.replicaRun]) ownedFolder(d, osUserIds(cfg.osUser), false);
  writeReplicaConfig(cfg, o.sharedBuffers);
  if (!(await portIsFree(cfg.host, cfg.replicaPort))) {
    const key = envKey(cfg.name, 'REPLICA_PORT');
    throw new StepError('replica port', `${cfg.host}:${cfg.replicaPort} is already in use by another program. Stop it, or choose another port with ${key}=<port> (e.g. \`${key}=${cfg.replicaPort + 100} npm start -- --replica\`)`);
  }
  log(`starting the read replica on ${cfg.host}:${cfg.replicaPort} (hot standby, streaming from the primary)`);
  const r = await run(pgBin('pg_ctl'), ['-D', p.replicaData, '-l', p.replicaLog, '-w', '-t', '300', 'start'], { osUser: cfg.osUser });
  if (r.code !== 0) throw new StepError('start the replica', `pg_ctl exited with ${r.code}. Last lines of ${p.replicaLog}:\n${logTail(p.replicaLog)}`);
  return { started: true, restored, state: await waitStreaming(cfg, o.primarySuperuserUrl) };
}

export async function stopReplica(cfg: StackConfig, log: Log = () => {}): Promise<boolean> {
  if (replicaRunning(cfg) === null) return false;
  log('stopping the read replica (its data is kept; it catches up on the next start)');
  await runStep('stop the replica', pgBin('pg_ctl'), ['-D', stackPaths(cfg).replicaData, '-m', 'fast', '-w', '-t', '120', 'stop'], { osUser: cfg.osUser });
  return true;
}

/** Promotes the replica to a primary (the failover drill). Returns once it accepts writes. */
export async function promoteReplica(cfg: StackConfig): Promise<void> {
  await runStep('promote the replica', pgBin('pg_ctl'), ['-D', stackPaths(cfg).replicaData, '-w', '-t', '120', 'promote'], { osUser: cfg.osUser });
}

/** Whether a server answers as a standby (read-only) or a primary. */
export async function inRecovery(c: Pick<pg.ClientBase, 'query'>): Promise<boolean> {
  return (await c.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0].r;
}
