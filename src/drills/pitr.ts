// The point-in-time recovery drill: while a writer commits marker rows, back up (full, differential,
// incremental), keep writing, take a snapshot at a quiet point T, keep writing, then restore to T into a
// scratch cluster (own folder and port) and check it holds exactly what was committed by T.
import { join } from 'node:path';
import type { StackConfig } from '../config.js';
import { stackPaths } from '../config.js';
import { sleep } from '../proc/system.js';
import { renderPostgresConf } from '../local/render.js';
import { connectionStrings, stackSecrets } from '../local/stack.js';
import { clusterUrl, folderBytes, removeScratch, scratchCluster, startScratch, timeRawCopy, waitWritable, withClient, writeScratchConfig } from './cluster.js';
import { ArchiveSampler, DRILL_SCHEMA, ensureDrillTables, MarkerWriter, measureRpo } from './load.js';
import * as backrest from './pgbackrest.js';
import { checkMarkersAtTarget, compareSnapshots, snapshot, snapshotAtQuietPoint, summarize, type MarkerCheck } from './verify.js';

export interface PitrOptions {
  /** Port of the scratch cluster the restore goes to. */
  restorePort: number;
  /** Folder for the scratch cluster and the raw-copy baseline (created and removed by the drill). */
  scratchDir: string;
  backupTypes?: backrest.BackupType[];
  /** Writing before and after the target; the whole write phase lasts at least minWriteMs so that the
   * archive_timeout switch happens inside it and the RPO is measured over a full cycle. */
  writeBeforeTargetMs?: number;
  writeAfterTargetMs?: number;
  minWriteMs?: number;
  runCheckAndVerify?: boolean;
  log?: (l: string) => void;
}

export interface PitrResult {
  ok: boolean;
  failures: string[];
  target: string;
  backups: Array<{ type: string; label: string; ms: number }>;
  check: { ok: boolean; output: string } | null;
  verify: { ok: boolean; output: string } | null;
  markers: MarkerCheck & { written: number; writerErrors: number };
  snapshot: ReturnType<typeof summarize>;
  snapshotLockedMs: number;
  dataset: { dataDirBytes: number; databaseBytes: number };
  rawCopyMs: number;
  rto: { restoreMs: number; recoveryMs: number; verifyMs: number; totalMs: number; ratioToRawCopy: number };
  rpo: { maxMs: number; p50Ms: number; samples: number; mechanism: string };
  restoredClusterRemoved: boolean;
}

export async function runPitrDrill(cfg: StackConfig, opts: PitrOptions): Promise<PitrResult> {
  const log = opts.log ?? (() => {});
  const secrets = stackSecrets(cfg);
  const url = connectionStrings(cfg, secrets).superuserDirect;
  const failures: string[] = [];
  const runId = `pitr-${new Date().toISOString()}`;

  await withClient(url, (c) => ensureDrillTables(c));
  const health = await withClient(url, (c) => backrest.archiveHealth(c, cfg));
  // The RPO bound is archive_timeout; a stack started before a settings change runs the old value.
  const archiveTimeout = await withClient(url, async (c) => (await c.query<{ s: string }>("SELECT setting AS s FROM pg_settings WHERE name = 'archive_timeout'")).rows[0].s);
  const rendered = /archive_timeout = (\d+)s/.exec(renderPostgresConf(cfg))?.[1];
  const staleConfig = rendered && rendered !== archiveTimeout ? `the stack runs archive_timeout = ${archiveTimeout}s but src/local/render.ts now sets ${rendered}s: restart it (\`npm stop && npm start\`) to apply` : null;
  if (staleConfig) log(`  NOTE: ${staleConfig}`);
  if (!health.ok) throw new Error(`cannot run the PITR drill: ${health.message}`);

  log('PITR drill: marker writer started');
  const t0 = Date.now();
  const writer = new MarkerWriter(url, runId).start();
  const sampler = new ArchiveSampler(url).start();
  const backups: PitrResult['backups'] = [];
  let target!: Date;
  let expected!: Awaited<ReturnType<typeof snapshotAtQuietPoint>>;
  try {
    for (const type of opts.backupTypes ?? ['full', 'diff', 'incr']) {
      log(`  ${type} backup (while writing)`);
      backups.push(await backrest.backup(cfg, type));
    }
    await sleep(opts.writeBeforeTargetMs ?? 2000);
    expected = await withClient(url, (c) => snapshotAtQuietPoint(c));
    target = expected.at;
    log(`  target time ${backrest.pgTimestamp(target)} (core tables locked ${expected.lockedMs} ms for the snapshot)`);
    await sleep(opts.writeAfterTargetMs ?? 2000);
    const rest = (opts.minWriteMs ?? 12_000) - (Date.now() - t0);
    if (rest > 0) await sleep(rest);
  } finally {
    await writer.stop();
    await sampler.stop();
  }
  const markers = writer.markers;
  const rpo = measureRpo(markers, sampler.samples, sampler.segmentBytes);
  log(`  ${markers.length} markers written; RPO exposure max ${(rpo.maxMs / 1000).toFixed(1)} s over ${rpo.samples} samples`);
  // The WAL after the target must be in the repository before recovery can reach the target.
  await withClient(url, (c) => backrest.switchAndWaitArchived(c));

  let check: PitrResult['check'] = null;
  let verify: PitrResult['verify'] = null;
  if (opts.runCheckAndVerify !== false) {
    log('  pgbackrest check');
    const ck = await backrest.check(cfg);
    check = { ok: ck.code === 0, output: `${ck.stdout}${ck.stderr}`.trim() };
    if (!check.ok) failures.push(`pgbackrest check failed: ${check.output}`);
    log('  pgbackrest verify');
    const vf = await backrest.verifyRepo(cfg);
    verify = { ok: vf.code === 0, output: `${vf.stdout}${vf.stderr}`.trim().split('\n').slice(-5).join('\n') };
    if (!verify.ok) failures.push(`pgbackrest verify failed: ${verify.output}`);
  }

  const dataDirBytes = await folderBytes(stackPaths(cfg).data);
  const databaseBytes = await withClient(url, async (c) => Number((await c.query<{ b: string }>('SELECT pg_database_size(current_database()) AS b')).rows[0].b));
  log(`  raw copy of the data folder (${(dataDirBytes / 1e6).toFixed(0)} MB), the RTO baseline`);
  const raw = await timeRawCopy(cfg, join(opts.scratchDir, 'rawcopy'));

  const scratch = scratchCluster(cfg, secrets.superuserPassword, join(opts.scratchDir, 'pitr'), opts.restorePort);
  let restoredClusterRemoved = false;
  let markerCheck!: MarkerCheck;
  let rto!: PitrResult['rto'];
  try {
    log(`  restoring to ${backrest.pgTimestamp(target)} into ${scratch.data} (port ${scratch.port})`);
    const r0 = performance.now();
    const { ms: restoreMs } = await backrest.restoreInto(cfg, scratch, { time: target });
    writeScratchConfig(cfg, scratch, { keepCron: false });
    const rec0 = performance.now();
    await startScratch(scratch);
    await waitWritable(scratch);
    const recoveryMs = performance.now() - rec0;
    const v0 = performance.now();
    const { actual, present } = await withClient(clusterUrl(scratch), async (c) => ({
      actual: await snapshot(c),
      present: new Set((await c.query<{ seq: number }>(`SELECT seq FROM ${DRILL_SCHEMA}.markers WHERE run_id = $1`, [runId])).rows.map((x) => x.seq)),
    }));
    const diffs = compareSnapshots(expected.snapshot, actual);
    markerCheck = checkMarkersAtTarget(markers, present, target.getTime());
    const verifyMs = performance.now() - v0;
    const totalMs = performance.now() - r0;
    rto = { restoreMs, recoveryMs, verifyMs, totalMs, ratioToRawCopy: totalMs / raw.ms };
    failures.push(...diffs.map((d) => `PITR restore: ${d}`));
    if (markerCheck.missing.length) failures.push(`PITR restore: ${markerCheck.missing.length} marker(s) committed before the target are missing (seq ${markerCheck.missing.slice(0, 10).join(', ')})`);
    if (markerCheck.unexpected.length) failures.push(`PITR restore: ${markerCheck.unexpected.length} marker(s) committed after the target are present (seq ${markerCheck.unexpected.slice(0, 10).join(', ')})`);
    if (markerCheck.mustBePresent === 0 || markerCheck.mustBeAbsent === 0) failures.push('PITR restore: the target did not split the markers (none before or none after): the drill proves nothing');
  } finally {
    await removeScratch(scratch);
    restoredClusterRemoved = true;
  }
  log(`  restored cluster removed; RTO ${(rto.totalMs / 1000).toFixed(1)} s (raw copy ${(raw.ms / 1000).toFixed(1)} s)`);

  return {
    ok: failures.length === 0,
    failures,
    target: backrest.pgTimestamp(target),
    backups,
    check,
    verify,
    markers: { ...markerCheck, written: markers.length, writerErrors: writer.errors.length },
    snapshot: summarize(expected.snapshot),
    snapshotLockedMs: expected.lockedMs,
    dataset: { dataDirBytes, databaseBytes },
    rawCopyMs: raw.ms,
    rto,
    rpo: {
      ...rpo,
      mechanism: `WAL archiving by pgBackRest (asynchronous push) with archive_timeout = ${archiveTimeout}s (a partly filled segment is switched and archived at most that long after its first write)${staleConfig ? `; ${staleConfig}` : ''}`,
    },
    restoredClusterRemoved,
  };
}
