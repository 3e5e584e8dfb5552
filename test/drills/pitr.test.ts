// PITR and logical drills for real, at small scale, on a private stack: pgBackRest backups of each type
// under a marker writer, a restore to a chosen time in a scratch cluster, and a pg_dump/pg_restore.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StackConfig } from '../../src/config.js';
import { portIsFree, type PortLease } from '../../src/proc/ports.js';
import { postgresRunning, stackSecrets } from '../../src/local/stack.js';
import { clusterUrl, removeScratch, scratchCluster, startScratch, waitWritable, withClient, writeScratchConfig } from '../../src/drills/cluster.js';
import { runLogicalDrill } from '../../src/drills/logical.js';
import * as backrest from '../../src/drills/pgbackrest.js';
import { runPitrDrill } from '../../src/drills/pitr.js';
import { workDir } from '../../src/drills/run.js';
import { compareSnapshots, snapshot, snapshotAtQuietPoint } from '../../src/drills/verify.js';
import { drillStack, removeDrillStack, startDrillStack } from './support.js';

let cfg: StackConfig;
let ports: PortLease;
let restorePort: number;
let logicalPort: number;
// Next to the stack's real folder: under a private checkout that is /var/lib/pgkit/..., which the servers'
// OS user can reach (the project-local path only links there).
let scratchDir: string;
let adminUrl: string;

beforeAll(async () => {
  ({ cfg, ports, spare: [restorePort, logicalPort] } = await drillStack('pitr', 2));
  ({ adminUrl } = await startDrillStack(cfg));
  scratchDir = join(workDir(cfg), `drill-test-pitr-scratch-${process.pid}`);
});
afterAll(async () => {
  if (!cfg) return;
  if (scratchDir) await removeScratch(scratchCluster(cfg, '', scratchDir, restorePort));
  await removeDrillStack(cfg, ports);
});

describe('PITR drill (pgBackRest)', () => {
  it('restores to the target time exactly: markers before it present, after it absent, tables, roles, RLS, extensions, cron intact', async () => {
    const r = await runPitrDrill(cfg, { restorePort, scratchDir, writeBeforeTargetMs: 1500, writeAfterTargetMs: 1500, minWriteMs: 8000 });
    expect(r.failures).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.backups.map((b) => b.type)).toEqual(['full', 'diff', 'incr']);
    expect(r.check?.ok).toBe(true);
    expect(r.verify?.ok).toBe(true);
    expect(r.markers.mustBePresent).toBeGreaterThan(20);
    expect(r.markers.mustBeAbsent).toBeGreaterThan(20);
    expect(r.markers.missing).toEqual([]);
    expect(r.markers.unexpected).toEqual([]);
    // The fixture: three core tables, RLS and its policy, the pg_cron job, pgvector among the extensions.
    expect(r.snapshot).toMatchObject({ tables: 3, rows: 1202, cronJobs: 1 });
    expect(r.snapshot.policies).toBeGreaterThanOrEqual(1);
    expect(r.snapshot.extensions).toBeGreaterThanOrEqual(3);
    expect(r.rpo.samples).toBeGreaterThan(10);
    expect(r.rpo.maxMs).toBeLessThanOrEqual(10_000);
    expect(r.rto.totalMs).toBeGreaterThan(r.rto.restoreMs);
    expect(r.rto.ratioToRawCopy).toBeGreaterThan(0);
    // The scratch cluster is gone and the stack it came from kept running.
    expect(r.restoredClusterRemoved).toBe(true);
    expect(existsSync(join(scratchDir, 'pitr'))).toBe(false);
    expect(await portIsFree('127.0.0.1', restorePort)).toBe(true);
    expect(postgresRunning(cfg)).not.toBeNull();
  });

  it('a restore that differs from the expected state is caught, naming the table and both counts', async () => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    const scratch = scratchCluster(cfg, stackSecrets(cfg).superuserPassword, join(scratchDir, 'negative'), restorePort);
    try {
      const before = await snapshotAtQuietPoint(c);
      await c.query("INSERT INTO app.drill_fixture VALUES (5001, 1, 'after the target', '[0,0,0]'); UPDATE ops.drill_jobs SET runs = runs + 1 WHERE name = 'a'");
      const after = await snapshot(c);
      await backrest.switchAndWaitArchived(c);
      await backrest.restoreInto(cfg, scratch, { time: before.at });
      writeScratchConfig(cfg, scratch, { keepCron: false });
      await startScratch(scratch);
      await waitWritable(scratch);
      const restored = await withClient(clusterUrl(scratch), (s) => snapshot(s));
      expect(compareSnapshots(before.snapshot, restored)).toEqual([]);
      const diffs = compareSnapshots(after, restored);
      expect(diffs).toContain('table app.drill_fixture: 1000 rows, expected 1001');
      expect(diffs.find((d) => d.startsWith('table ops.drill_jobs'))).toMatch(/same row count \(2\) but different content/);
    } finally {
      await c.end();
      await removeScratch(scratch);
    }
  });
});

describe('logical drill (pg_dump -Fd / pg_restore)', () => {
  it('restores into a fresh cluster with the same tables, roles, policies, extensions and cron jobs', async () => {
    const r = await runLogicalDrill(cfg, { restorePort: logicalPort, scratchDir, jobs: 2 });
    expect(r.failures).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.snapshot).toMatchObject({ cronJobs: 1 });
    expect(r.snapshot.rows).toBeGreaterThanOrEqual(1201);
    expect(r.scratchRemoved).toBe(true);
    expect(existsSync(join(scratchDir, 'logical'))).toBe(false);
    expect(await portIsFree('127.0.0.1', logicalPort)).toBe(true);
  });
});
