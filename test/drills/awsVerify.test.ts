// The AWS drill's PostgreSQL side, against a real server (a private drill stack, which serves TLS from its
// own CA with a certificate for 127.0.0.1/localhost): verified TLS for the endpoint name also behind a
// tunnel, pg_cron paused before reading, marker rows present/absent, structure compared, and the
// structure-only read of the source scanning no table.
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackPaths, type StackConfig } from '../../src/config.js';
import type { PortLease } from '../../src/proc/ports.js';
import { withClient } from '../../src/db/client.js';
import { pgMarkerSource, verifyWithPg, type VerifyTarget } from '../../src/drills/aws.js';
import { DRILL_SCHEMA } from '../../src/drills/load.js';
import { snapshot } from '../../src/drills/verify.js';
import { drillStack, removeDrillStack, startDrillStack } from './support.js';

let cfg: StackConfig;
let ports: PortLease;
let adminUrl: string;
let target: (over?: Partial<VerifyTarget>) => VerifyTarget;

beforeAll(async () => {
  ({ cfg, ports } = await drillStack('aws'));
  ({ adminUrl } = await startDrillStack(cfg));
  const u = new URL(adminUrl);
  const ca = readFileSync(stackPaths(cfg).tlsCa, 'utf8');
  target = (over = {}) => ({ host: '127.0.0.1', port: cfg.pgPort, serverName: 'localhost', user: decodeURIComponent(u.username), password: decodeURIComponent(u.password), database: u.pathname.slice(1), tls: { ca }, ...over });
}, 240_000);
afterAll(async () => {
  if (cfg) await removeDrillStack(cfg, ports);
});

describe('AWS drill verification (real PostgreSQL)', () => {
  it('verifies TLS against the CA for the endpoint name, not the tunnel address', async () => {
    const ctx = { runId: 'tls', markers: [], target: null, deadlineMs: 60_000 };
    const v = await verifyWithPg(target(), ctx);
    expect(v.tlsVerified).toBe(true);
    expect(v.firstQueryMs).toBeGreaterThan(0);
    // the same server under another name (what a tunnel to the wrong endpoint looks like) is refused
    await expect(verifyWithPg(target({ serverName: 'pgkit-prod-drill-x.abcdefghij12.eu-west-1.rds.amazonaws.com' }), ctx)).rejects.toThrow(/altnames|Hostname\/IP does not match/i);
  });

  it('pauses pg_cron before reading, checks marker rows around the target, and compares the structure with the source', async () => {
    await withClient(adminUrl, (c) => c.query('UPDATE cron.job SET active = true')); // the case above paused it
    const expected = await withClient(adminUrl, (c) => snapshot(c, { contents: false }));
    const runId = `aws-verify-${process.pid}`;
    const markers = pgMarkerSource(async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      return c;
    });
    const before = await markers.write(runId, 1);
    await new Promise((r) => setTimeout(r, 20));
    const at = new Date();
    await new Promise((r) => setTimeout(r, 20));
    const after = await markers.write(runId, 2);
    await markers.close();

    // The database still holds the row written after the target: a restore to a later time.
    const ctx = { runId, markers: [before, after], target: at, deadlineMs: 60_000, expected };
    const late = await verifyWithPg(target(), ctx);
    expect(late.ok).toBe(false);
    expect(late.failures).toEqual(['marker row(s) committed after the target are present (seq 2): the restore is newer than asked']);
    expect(late.cronPaused).toBe(1);
    expect(await withClient(adminUrl, async (c) => (await c.query('SELECT active FROM cron.job')).rows)).toEqual([{ active: false }]);

    // As a restore to the target would be: the second row absent. The cron jobs compare as they were before pausing.
    await withClient(adminUrl, (c) => c.query(`DELETE FROM ${DRILL_SCHEMA}.markers WHERE run_id = $1 AND seq = 2`, [runId]));
    await withClient(adminUrl, (c) => c.query('UPDATE cron.job SET active = true'));
    const good = await verifyWithPg(target(), ctx);
    expect(good.failures).toEqual([]);
    expect(good.markers).toMatchObject({ ok: true, mustBePresent: 1, mustBeAbsent: 1 });
    expect(good.summary?.cronJobs).toBe(1);

    // A policy the source has and the restore lacks fails the structure comparison.
    const withExtraPolicy = { ...expected, policies: [...expected.policies, 'app.drill_fixture.only_on_source cmd=SELECT permissive=PERMISSIVE roles=public using=true check=-'] };
    await withClient(adminUrl, (c) => c.query('UPDATE cron.job SET active = true'));
    const diff = await verifyWithPg(target(), { ...ctx, expected: withExtraPolicy });
    expect(diff.failures).toEqual(['policy missing or changed: app.drill_fixture.only_on_source cmd=SELECT permissive=PERMISSIVE roles=public using=true check=-']);
  });

  it('the structure-only snapshot of the source scans no table (the full snapshot does)', async () => {
    const scans = async (contents: boolean) =>
      withClient(adminUrl, async (c) => {
        await c.query('BEGIN');
        await snapshot(c, { contents });
        const r = await c.query<{ n: string }>("SELECT coalesce(sum(seq_scan + coalesce(idx_scan, 0)), 0)::text AS n FROM pg_stat_xact_user_tables WHERE schemaname IN ('app', 'audit', 'ops')");
        await c.query('ROLLBACK');
        return Number(r.rows[0].n);
      });
    expect(await scans(false)).toBe(0);
    expect(await scans(true)).toBeGreaterThan(0);
  });
});
