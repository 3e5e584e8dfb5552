// Issue 17 #3 (seed 003 §7.1): live-schema drift. The runner records the catalogue (src/migrate/fingerprint.ts)
// when it applies; status compares the database with it and names what changed outside the ledger.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlDir } from '../../src/config.js';
import { applyMigrations, formatStatus, migrationStatus } from '../../src/migrate/index.js';
import { migratedDatabase, type TestDb } from '../support/db.js';

let db: TestDb;
const opts = () => ({ connectionString: db.url, dir: sqlDir });

beforeAll(async () => {
  db = await migratedDatabase();
  // The harness clones the template and copies its database settings itself (test/support/db.ts, not the runner),
  // which can change their text (TimeZone=UTC vs utc): start from this database's own recording.
  await db.pool.query("DO $$ BEGIN IF to_regclass('pgkit_migrations.catalogue') IS NOT NULL THEN DELETE FROM pgkit_migrations.catalogue; END IF; END $$");
  await applyMigrations(opts()); // nothing pending; records the fingerprint, none being recorded
});
afterAll(async () => {
  await db?.drop();
});

describe('live-schema drift (issue 17 #3)', () => {
  it('status finds none on the database as the runner left it', async () => {
    const s = await migrationStatus(opts());
    expect(s.schemaDrift.recordedAt).not.toBeNull();
    expect(s.schemaDrift.changes).toEqual([]);
    expect(s.schemaDrift.liveFingerprint).toBe(s.schemaDrift.recordedFingerprint);
    expect(formatStatus(s)).not.toMatch(/SCHEMA DRIFT/);
  });

  it('an index and a column added by hand are named by status, and gone again when undone; apply does not hide them', async () => {
    await db.pool.query('CREATE INDEX users_by_hand_idx ON app.users (display_name)');
    await db.pool.query('ALTER TABLE app.projects ADD COLUMN by_hand text');
    const s = await migrationStatus(opts());
    expect(s.schemaDrift.changes).toContain('indexes + CREATE INDEX users_by_hand_idx ON app.users USING btree (display_name) valid=true');
    expect(s.schemaDrift.changes.some((c) => c.startsWith('columns + app.projects.by_hand text'))).toBe(true);
    expect(formatStatus(s)).toMatch(/SCHEMA DRIFT: \d+ catalogue line\(s\) changed outside the ledger[\s\S]*users_by_hand_idx/);
    // An apply with nothing pending leaves the recorded catalogue as it was: the drift stays visible.
    await applyMigrations(opts());
    expect((await migrationStatus(opts())).schemaDrift.changes).toContain('indexes + CREATE INDEX users_by_hand_idx ON app.users USING btree (display_name) valid=true');
    await db.pool.query('DROP INDEX app.users_by_hand_idx');
    await db.pool.query('ALTER TABLE app.projects DROP COLUMN by_hand');
    expect((await migrationStatus(opts())).schemaDrift.changes).toEqual([]);
  });

  it('a function replaced by hand is drift too; a partition pg_partman adds is not', async () => {
    const before = (await db.pool.query("SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = 'ops.logs'::regclass")).rows[0].n;
    await db.pool.query("SELECT partman.create_partition_time('ops.logs', ARRAY[now() + interval '10 months'])");
    expect((await db.pool.query("SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = 'ops.logs'::regclass")).rows[0].n).toBe(before + 1);
    expect((await migrationStatus(opts())).schemaDrift.changes).toEqual([]);
    await db.pool.query("CREATE OR REPLACE FUNCTION app_private.week_start(p_at timestamptz) RETURNS timestamptz LANGUAGE sql IMMUTABLE AS $$ SELECT p_at $$");
    const changes = (await migrationStatus(opts())).schemaDrift.changes;
    expect(changes.some((c) => c.startsWith('functions + app_private.week_start(p_at timestamp with time zone)'))).toBe(true);
  });
});
