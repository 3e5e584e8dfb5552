// The verification the drills rely on, against the real sql/ bundle (a migrated database of the shared test
// stack; nothing here restarts a server), plus the pure rules for markers and the RPO measurement.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratedDatabase, type TestDb } from '../support/db.js';
import { archiveHealth } from '../../src/drills/pgbackrest.js';
import { measureRpo, parseLsn, segmentEndLsn, type MarkerRecord } from '../../src/drills/load.js';
import { checkAcknowledged, checkMarkersAtTarget, compareSnapshots, coreTables, snapshot, snapshotAtQuietPoint, type DatabaseSnapshot } from '../../src/drills/verify.js';

let db: TestDb;
beforeAll(async () => {
  db = await migratedDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe('snapshot of the real bundle', () => {
  it('discovers the core tables from the catalogs and reads the same state twice', async () => {
    const c = await db.pool.connect();
    try {
      const tables = await coreTables(c);
      expect(tables.length).toBeGreaterThan(5);
      expect(tables.every((t) => /^(app|audit|ops)\./.test(t))).toBe(true);
      const a = await snapshot(c);
      const b = await snapshot(c);
      expect(a.tables.map((t) => t.name)).toEqual(tables);
      expect(a.extensions.some((e) => e.startsWith('vector '))).toBe(true);
      expect(a.roles.some((r) => r.name === 'pgkit_app' && r.attrs.includes('bypassrls=false'))).toBe(true);
      expect(compareSnapshots(a, b)).toEqual([]);
    } finally {
      c.release();
    }
  });

  it('detects changed rows (same count), added rows, RLS switched off, a dropped policy and a new extension', async () => {
    const c = await db.pool.connect();
    try {
      await c.query(`CREATE TABLE ops.verify_probe (id int PRIMARY KEY, v text);
        INSERT INTO ops.verify_probe VALUES (1, 'a'), (2, 'b');
        ALTER TABLE ops.verify_probe ENABLE ROW LEVEL SECURITY;
        CREATE POLICY verify_probe_select ON ops.verify_probe FOR SELECT TO pgkit_app USING (true);`);
      const before = await snapshot(c);
      await c.query(`UPDATE ops.verify_probe SET v = 'changed' WHERE id = 2`);
      let diffs = compareSnapshots(before, await snapshot(c));
      expect(diffs).toEqual([expect.stringMatching(/^table ops\.verify_probe: same row count \(2\) but different content/)]);
      await c.query(`INSERT INTO ops.verify_probe VALUES (3, 'c');
        ALTER TABLE ops.verify_probe DISABLE ROW LEVEL SECURITY;
        DROP POLICY verify_probe_select ON ops.verify_probe;
        CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA extensions`);
      diffs = compareSnapshots(before, await snapshot(c));
      expect(diffs).toContain('table ops.verify_probe: 3 rows, expected 2');
      expect(diffs).toContain('row-level security on ops.verify_probe: rls=off force=off, expected rls=on force=off');
      expect(diffs.some((d) => d.startsWith('policy missing or changed: ops.verify_probe.verify_probe_select'))).toBe(true);
      expect(diffs.some((d) => d.startsWith('extension not expected: pg_trgm'))).toBe(true);
    } finally {
      c.release();
    }
  });

  it('checksums do not depend on row order', async () => {
    const c = await db.pool.connect();
    try {
      await c.query(`CREATE TABLE audit.order_a (v int, w text); CREATE TABLE audit.order_b (v int, w text);
        INSERT INTO audit.order_a SELECT g, md5(g::text) FROM generate_series(1, 500) g;
        INSERT INTO audit.order_b SELECT g, md5(g::text) FROM generate_series(500, 1, -1) g;`);
      const s = await snapshot(c);
      const a = s.tables.find((t) => t.name === 'audit.order_a')!;
      const b = s.tables.find((t) => t.name === 'audit.order_b')!;
      expect(a.rows).toBe(500);
      expect(a.checksum).toBe(b.checksum);
      expect(a.checksum).not.toBe('0');
    } finally {
      c.release();
    }
  });

  it('the quiet-point snapshot holds writers back and returns a moment inside the held window', async () => {
    const c = await db.pool.connect();
    try {
      const t0 = Date.now();
      const r = await snapshotAtQuietPoint(c);
      expect(r.at.getTime()).toBeGreaterThanOrEqual(t0);
      expect(r.at.getTime()).toBeLessThanOrEqual(Date.now());
      expect(r.snapshot.tables.length).toBeGreaterThan(5);
    } finally {
      c.release();
    }
  });

  it('reads the archiver of the test stack as healthy', async () => {
    const h = await archiveHealth(db.pool);
    expect(h.ok).toBe(true);
    expect(h.message).toBeNull();
  });
});

describe('rules', () => {
  const empty: DatabaseSnapshot = { tables: [], roles: [], rls: {}, policies: [], extensions: [], cronJobs: null };

  it('compares pg_cron jobs, and the presence of the cron schema', () => {
    expect(compareSnapshots({ ...empty, cronJobs: ['a | * * * * * | SELECT 1'] }, { ...empty, cronJobs: [] })).toEqual(['pg_cron job missing or changed: a | * * * * * | SELECT 1']);
    expect(compareSnapshots({ ...empty, cronJobs: [] }, empty)).toEqual(['pg_cron: the cron schema is missing from the restore']);
  });

  it('markers: acknowledged before the target must be present, sent after it absent, in flight either way', () => {
    const m = (seq: number, sentAt: number, ackedAt: number) => ({ seq, sentAt, ackedAt });
    const markers = [m(1, 100, 105), m(2, 110, 116), m(3, 118, 125), m(4, 130, 135)];
    // target 120: 1 and 2 acknowledged before, 3 in flight, 4 sent after.
    expect(checkMarkersAtTarget(markers, new Set([1, 2]), 120)).toMatchObject({ ok: true, mustBePresent: 2, mustBeAbsent: 1, inFlight: 1 });
    expect(checkMarkersAtTarget(markers, new Set([1, 2, 3]), 120).ok).toBe(true);
    expect(checkMarkersAtTarget(markers, new Set([1]), 120)).toMatchObject({ ok: false, missing: [2] });
    expect(checkMarkersAtTarget(markers, new Set([1, 2, 4]), 120)).toMatchObject({ ok: false, unexpected: [4] });
    expect(checkAcknowledged([1, 2, 3], new Set([1, 3, 9]))).toEqual({ ok: false, acknowledged: 3, lost: [2] });
  });

  it('RPO: the time acknowledged commits wait for their WAL segment to reach the repository', () => {
    const seg = 16 * 1024 * 1024;
    expect(parseLsn('1/10')).toBe(4294967312n);
    expect(segmentEndLsn('000000010000000100000002', seg)).toBe((1n << 32n) + 3n * BigInt(seg));
    const lsnIn = (segNo: number) => BigInt(segNo * seg + 100);
    const markers: MarkerRecord[] = [
      { seq: 1, sentAt: 0, ackedAt: 1000, lsn: lsnIn(3) },
      { seq: 2, sentAt: 1900, ackedAt: 2000, lsn: lsnIn(4) },
      { seq: 3, sentAt: 5900, ackedAt: 6000, lsn: lsnIn(4) },
    ];
    const samples = [
      { at: 1500, lastArchivedWal: '000000010000000000000002' }, // marker 1 waits: 500 ms
      { at: 4000, lastArchivedWal: '000000010000000000000003' }, // marker 2 waits: 2000 ms
      { at: 6000, lastArchivedWal: '000000010000000000000004' }, // all archived: 0
    ];
    expect(measureRpo(markers, samples, seg)).toEqual({ maxMs: 2000, p50Ms: 500, samples: 3 });
  });
});
