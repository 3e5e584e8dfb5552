// The logical drill: a parallel pg_dump (directory format) of the stack's database, taken on an exported
// snapshot so the expected state is read from exactly what the dump holds, restored with a parallel
// pg_restore (roles first, from pg_dumpall --roles-only) into a fresh database in a scratch cluster.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { StackConfig } from '../config.js';
import { runStep } from '../proc/run.js';
import { pgBin } from '../local/render.js';
import { connectionStrings, stackSecrets } from '../local/stack.js';
import { clusterUrl, folderBytes, initScratch, ownedDir, removeScratch, scratchCluster, startScratch, withClient, writeOwnedFile } from './cluster.js';
import { compareSnapshots, snapshot, summarize } from './verify.js';

export interface LogicalOptions {
  restorePort: number;
  scratchDir: string;
  jobs?: number;
  log?: (l: string) => void;
}

export interface LogicalResult {
  ok: boolean;
  failures: string[];
  jobs: number;
  dumpMs: number;
  dumpBytes: number;
  restoreMs: number;
  verifyMs: number;
  totalMs: number;
  snapshot: ReturnType<typeof summarize>;
  scratchRemoved: boolean;
}

export async function runLogicalDrill(cfg: StackConfig, opts: LogicalOptions): Promise<LogicalResult> {
  const log = opts.log ?? (() => {});
  const secrets = stackSecrets(cfg);
  const jobs = opts.jobs ?? Math.max(2, Math.min(8, availableParallelism()));
  const failures: string[] = [];
  const env = { PGPASSWORD: secrets.superuserPassword };
  const conn = ['-h', cfg.host, '-p', String(cfg.pgPort), '-U', cfg.superUser];
  const scratch = scratchCluster(cfg, secrets.superuserPassword, join(opts.scratchDir, 'logical'), opts.restorePort);
  const dumpDir = join(opts.scratchDir, 'logical-dump');
  let result: LogicalResult | null = null;

  ownedDir(dumpDir, cfg.osUser);
  try {
    // The snapshot stays open while pg_dump's workers attach to it: the expected state and the dump agree.
    log(`logical drill: pg_dump -Fd -j ${jobs} on an exported snapshot`);
    const source = new pg.Client({ connectionString: connectionStrings(cfg, secrets).superuserDirect });
    await source.connect();
    let expected;
    let dumpMs: number;
    try {
      await source.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const snapId = (await source.query<{ s: string }>('SELECT pg_export_snapshot() AS s')).rows[0].s;
      expected = await snapshot(source);
      const d0 = performance.now();
      await runStep('pg_dump', pgBin('pg_dump'), [...conn, '-d', cfg.database, '-Fd', '-j', String(jobs), `--snapshot=${snapId}`, '-f', join(dumpDir, 'db')], { osUser: cfg.osUser, env });
      await runStep('pg_dumpall --roles-only', pgBin('pg_dumpall'), [...conn, '-l', 'postgres', '--roles-only', '-f', join(dumpDir, 'roles.sql')], { osUser: cfg.osUser, env });
      dumpMs = performance.now() - d0;
      await source.query('COMMIT');
    } finally {
      await source.end().catch(() => {});
    }
    const dumpBytes = await folderBytes(dumpDir);

    const t0 = performance.now();
    await initScratch(cfg, scratch);
    await startScratch(scratch);
    // The bootstrap superuser exists in every new cluster; everything else about it (its password) is kept.
    const roles = readFileSync(join(dumpDir, 'roles.sql'), 'utf8')
      .split('\n')
      .filter((l) => l !== `CREATE ROLE ${cfg.superUser};`)
      .join('\n');
    writeOwnedFile(join(dumpDir, 'roles-filtered.sql'), roles, cfg.osUser);
    const sEnv = { PGPASSWORD: scratch.adminPassword };
    const sConn = ['-h', scratch.host, '-p', String(scratch.port), '-U', scratch.adminUser];
    await runStep('restore roles', pgBin('psql'), [...sConn, '-d', 'postgres', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', join(dumpDir, 'roles-filtered.sql')], { osUser: cfg.osUser, env: sEnv });
    log(`  pg_restore -j ${jobs} --create into a fresh cluster (port ${scratch.port})`);
    await runStep('pg_restore', pgBin('pg_restore'), [...sConn, '-d', 'postgres', '--create', '--exit-on-error', '-j', String(jobs), join(dumpDir, 'db')], { osUser: cfg.osUser, env: sEnv });
    const restoreMs = performance.now() - t0;
    const v0 = performance.now();
    const actual = await withClient(clusterUrl(scratch), (c) => snapshot(c));
    const diffs = compareSnapshots(expected, actual);
    const verifyMs = performance.now() - v0;
    failures.push(...diffs.map((d) => `logical restore: ${d}`));
    result = {
      ok: failures.length === 0,
      failures,
      jobs,
      dumpMs,
      dumpBytes,
      restoreMs,
      verifyMs,
      totalMs: performance.now() - t0,
      snapshot: summarize(expected),
      scratchRemoved: false,
    };
  } finally {
    await removeScratch(scratch);
    await removeScratch({ ...scratch, dir: dumpDir, data: join(dumpDir, 'none') });
  }
  result.scratchRemoved = true;
  log(`  logical restore ${result.ok ? 'verified' : 'FAILED'} in ${(result.totalMs / 1000).toFixed(1)} s; scratch cluster removed`);
  return result;
}
