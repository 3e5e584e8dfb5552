// The runner against real PostgreSQL (the test stack), with temp folders of small files.
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  applyMigrations,
  DriftError,
  LockTimeoutError,
  MIGRATION_LOCK_KEY,
  MigrationError,
  migrationStatus,
  OutOfOrderError,
  planMigrations,
  formatStatus,
} from '../../src/migrate/index.js';
import { freshDatabase, type TestDb } from '../support/db.js';
import { ledgerRows, migrationDir, tableExists, type MigrationDir } from './helpers.js';

let db: TestDb;
let dir: MigrationDir;
beforeEach(async () => {
  db = await freshDatabase();
  dir = await migrationDir();
});
afterEach(async () => {
  await db.drop();
  await dir.cleanup();
});

const opts = () => ({ connectionString: db.url, dir: dir.path });

describe('apply', () => {
  it('applies files in name order, records them, and a second apply does nothing', async () => {
    // Written in reverse order: the runner must sort by name, not by directory order.
    await dir.write('0010_c.sql', "INSERT INTO seen (name) VALUES ('c');");
    await dir.write('0002_b.sql', "INSERT INTO seen (name) VALUES ('b');");
    await dir.write('0001_a.sql', "CREATE TABLE seen (n bigint GENERATED ALWAYS AS IDENTITY, name text);\nINSERT INTO seen (name) VALUES ('a');");

    const first = await applyMigrations(opts());
    expect(first.applied).toEqual(['0001_a.sql', '0002_b.sql', '0010_c.sql']);
    expect(first.alreadyApplied).toBe(0);
    const { rows } = await db.pool.query<{ name: string }>('SELECT name FROM seen ORDER BY n');
    expect(rows.map((r) => r.name)).toEqual(['a', 'b', 'c']);
    const ledger = await ledgerRows(db.pool);
    expect(ledger.map((r) => [r.name, r.transactional])).toEqual([
      ['0001_a.sql', true],
      ['0002_b.sql', true],
      ['0010_c.sql', true],
    ]);

    const second = await applyMigrations(opts());
    expect(second).toEqual({ applied: [], alreadyApplied: 3, checksum: first.checksum, rewritten: [] });
    expect((await db.pool.query('SELECT count(*)::int AS n FROM seen')).rows[0].n).toBe(3);
  });

  it('plan and status change nothing, not even the ledger', async () => {
    await dir.write('0001_a.sql', 'CREATE TABLE a (x int);');
    await dir.write('0002_b.sql', '-- pgkit:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS a_x_idx ON a (x);');
    const plan = await planMigrations(opts());
    expect(plan.toApply.map((f) => [f.name, f.transactional, f.statements])).toEqual([
      ['0001_a.sql', true, 1],
      ['0002_b.sql', false, 1],
    ]);
    expect(plan.refusal).toBeNull();
    const status = await migrationStatus(opts());
    expect(status.pending.map((p) => p.name)).toEqual(['0001_a.sql', '0002_b.sql']);
    expect(await tableExists(db.pool, 'a')).toBe(false);
    expect(await tableExists(db.pool, 'pgkit_migrations.ledger')).toBe(false);
  });

  it('records the timeouts in effect, and resets session settings between files', async () => {
    await dir.write('0001_a.sql', "SET statement_timeout = '7s';\nSELECT 1;"); // session-level SET: must not leak
    await dir.write('0002_b.sql', "SET LOCAL lock_timeout = '2s';\nSELECT 2;");
    await dir.write('0003_c.sql', 'SELECT 3;');
    await applyMigrations({ ...opts(), lockTimeout: '3s' });
    expect((await ledgerRows(db.pool)).map((r) => [r.name, r.lock_timeout, r.statement_timeout])).toEqual([
      ['0001_a.sql', '3s', '7s'],
      ['0002_b.sql', '2s', '15min'],
      ['0003_c.sql', '3s', '15min'],
    ]);
  });
});

describe('session state', () => {
  it('records the file as the runner even when the file switched role', async () => {
    const role = `pgkit_test_owner_${db.name}`;
    await dir.write('0001_owned.sql', `CREATE ROLE ${role} NOLOGIN;\nGRANT ${role} TO CURRENT_USER;\nGRANT CREATE ON SCHEMA public TO ${role};\nSET ROLE ${role};\nCREATE TABLE owned (x int);`);
    try {
      await applyMigrations(opts());
      const { rows } = await db.pool.query<{ owner: string; by: string }>(
        `SELECT (SELECT tableowner FROM pg_tables WHERE tablename = 'owned') AS owner, (SELECT applied_by FROM pgkit_migrations.ledger) AS by`,
      );
      expect(rows[0]).toEqual({ owner: role, by: 'pgkit_admin' });
    } finally {
      await db.pool.query(`DROP OWNED BY ${role}; DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
    }
  });
});

describe('failing file', () => {
  it('rolls back the whole file, names file, line and PostgreSQL message, and stops there', async () => {
    await dir.write('0001_ok.sql', 'CREATE TABLE kept (x int);');
    await dir.write(
      '0002_broken.sql',
      ['-- header', 'CREATE TABLE half (x int);', "INSERT INTO half VALUES (1);", 'SELECT x', '  FROM', '    nope;'].join('\n'),
    );
    await dir.write('0003_after.sql', 'CREATE TABLE after_broken (x int);');

    const err = await applyMigrations(opts()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationError);
    const m = err as MigrationError;
    expect(m.file).toBe('0002_broken.sql');
    expect(m.line).toBe(6); // PostgreSQL's position points at "nope", three lines into the statement
    expect(m.sqlState).toBe('42P01');
    expect(m.pgMessage).toBe('relation "nope" does not exist');
    expect(m.message).toMatch(/^0002_broken\.sql:6: ERROR 42P01: relation "nope" does not exist \(file rolled back\)/);

    expect(await tableExists(db.pool, 'kept')).toBe(true);
    expect(await tableExists(db.pool, 'half')).toBe(false);
    expect(await tableExists(db.pool, 'after_broken')).toBe(false);
    expect((await ledgerRows(db.pool)).map((r) => r.name)).toEqual(['0001_ok.sql']);
    // Fixed, the file applies on the next run, followed by the rest.
    await dir.write('0002_broken.sql', 'CREATE TABLE half (x int);');
    expect((await applyMigrations(opts())).applied).toEqual(['0002_broken.sql', '0003_after.sql']);
  });

  it('maps an error without a position (PL/pgSQL, characters outside the BMP) to the right line', async () => {
    await dir.write('0001_do.sql', ["SELECT '😀';", 'DO $$', 'BEGIN', '  PERFORM 1;', "  RAISE EXCEPTION 'boom';", 'END', '$$;'].join('\n'));
    const m = (await applyMigrations(opts()).catch((e: unknown) => e)) as MigrationError;
    expect(m).toBeInstanceOf(MigrationError);
    expect([m.file, m.line, m.sqlState, m.pgMessage]).toEqual(['0001_do.sql', 5, 'P0001', 'boom']);

    await dir.write('0001_do.sql', "SELECT '😀😀',\n  nope;");
    const p = (await applyMigrations(opts()).catch((e: unknown) => e)) as MigrationError;
    expect([p.line, p.sqlState]).toEqual([2, '42703']);
  });

  it('refuses transaction control in a file before running it', async () => {
    await dir.write('0001_tx.sql', 'CREATE TABLE t (x int);\nCOMMIT;');
    const m = (await applyMigrations(opts()).catch((e: unknown) => e)) as MigrationError;
    expect(m).toBeInstanceOf(MigrationError);
    expect([m.file, m.line]).toEqual(['0001_tx.sql', 2]);
    expect(await tableExists(db.pool, 't')).toBe(false);
  });
});

describe('non-transactional files', () => {
  it('runs a marked file outside a transaction and records it as such', async () => {
    await dir.write('0001_t.sql', 'CREATE TABLE t (x int);\nINSERT INTO t SELECT generate_series(1, 100);');
    await dir.write(
      '0002_idx.sql',
      "-- pgkit:no-transaction\nSET lock_timeout = '1s';\nSET statement_timeout = '1min';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_x_idx ON t (x);",
    );
    await applyMigrations(opts());
    expect((await ledgerRows(db.pool)).map((r) => [r.name, r.transactional, r.lock_timeout])).toEqual([
      ['0001_t.sql', true, '5s'],
      ['0002_idx.sql', false, '1s'],
    ]);
    const { rows } = await db.pool.query<{ valid: boolean }>(`SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = 't_x_idx'::regclass`);
    expect(rows).toEqual([{ valid: true }]);
  });

  it('an unmarked CREATE INDEX CONCURRENTLY fails with a hint to mark the file', async () => {
    await dir.write('0001_t.sql', 'CREATE TABLE t (x int);');
    await dir.write('0002_idx.sql', 'CREATE INDEX CONCURRENTLY t_x_idx ON t (x);');
    const m = (await applyMigrations(opts()).catch((e: unknown) => e)) as MigrationError;
    expect(m).toBeInstanceOf(MigrationError);
    expect([m.file, m.line, m.sqlState]).toEqual(['0002_idx.sql', 1, '25001']);
    expect(m.message).toContain('-- pgkit:no-transaction');
  });

  it('a failure part way names the line, says earlier statements stay, and leaves the file pending', async () => {
    await dir.write('0001_nt.sql', '-- pgkit:no-transaction\nCREATE TABLE IF NOT EXISTS t (x int);\nSELECT nope;');
    const m = (await applyMigrations(opts()).catch((e: unknown) => e)) as MigrationError;
    expect([m.file, m.line, m.partiallyApplied]).toEqual(['0001_nt.sql', 3, true]);
    expect(await tableExists(db.pool, 't')).toBe(true);
    expect((await migrationStatus(opts())).pending.map((p) => p.name)).toEqual(['0001_nt.sql']);
  });
});

describe('drift', () => {
  it('status reports an edited applied file; apply refuses naming it, unless told explicitly', async () => {
    await dir.write('0001_a.sql', 'CREATE TABLE a (x int);');
    await applyMigrations(opts());
    await dir.write('0001_a.sql', 'CREATE TABLE a (x int, y int);');
    await dir.write('0002_b.sql', 'CREATE TABLE b (x int);');

    const status = await migrationStatus(opts());
    expect(status.drifted.map((d) => d.name)).toEqual(['0001_a.sql']);
    expect(status.pending.map((p) => p.name)).toEqual(['0002_b.sql']);
    expect(formatStatus(status)).toMatch(/0001_a\.sql\s+DRIFTED/);
    expect((await planMigrations(opts())).refusal).toMatch(/drift in 0001_a\.sql/);

    const err = await applyMigrations(opts()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DriftError);
    expect((err as DriftError).files).toEqual(['0001_a.sql']);
    expect((err as DriftError).message).toContain('0001_a.sql');
    expect(await tableExists(db.pool, 'b')).toBe(false);

    const res = await applyMigrations({ ...opts(), allowDrift: true });
    expect(res.applied).toEqual(['0002_b.sql']);
    // Drift is a fact about the database, not something the flag erases: status still reports it.
    expect((await migrationStatus(opts())).drifted.map((d) => d.name)).toEqual(['0001_a.sql']);
  });

  it('an applied file missing from the folder is drift too', async () => {
    await dir.write('0001_a.sql', 'SELECT 1;');
    await applyMigrations(opts());
    await dir.remove('0001_a.sql');
    expect((await migrationStatus(opts())).missing).toEqual(['0001_a.sql']);
    await expect(applyMigrations(opts())).rejects.toBeInstanceOf(DriftError);
  });

  it('refuses a pending file numbered below an applied one, unless allowed', async () => {
    await dir.write('0001_a.sql', 'SELECT 1;');
    await dir.write('0003_c.sql', 'SELECT 3;');
    await applyMigrations(opts());
    await dir.write('0002_b.sql', 'CREATE TABLE b (x int);');
    await expect(applyMigrations(opts())).rejects.toBeInstanceOf(OutOfOrderError);
    expect(await tableExists(db.pool, 'b')).toBe(false);
    expect((await applyMigrations({ ...opts(), allowOutOfOrder: true })).applied).toEqual(['0002_b.sql']);
  });
});

describe('lock', () => {
  it('two concurrent runners never interleave: each file is applied exactly once', async () => {
    await dir.write('0001_log.sql', 'CREATE TABLE runs (name text PRIMARY KEY, backend int DEFAULT pg_backend_pid());');
    for (const n of ['0002', '0003', '0004']) {
      await dir.write(`${n}_step.sql`, `SELECT pg_sleep(0.2);\nINSERT INTO runs (name) VALUES ('${n}');`);
    }
    const logs: string[][] = [[], []];
    const results = await Promise.all(logs.map((l) => applyMigrations({ ...opts(), log: (line) => l.push(line) })));
    const applied = results.flatMap((r) => r.applied).sort();
    expect(applied).toEqual(['0001_log.sql', '0002_step.sql', '0003_step.sql', '0004_step.sql']);
    // One runner did everything; the other waited for it and then found nothing to do.
    expect(results.map((r) => r.applied.length).sort()).toEqual([0, 4]);
    expect(logs.flat().some((l) => l.startsWith('waiting for the migration lock'))).toBe(true);
    const { rows } = await db.pool.query<{ backends: number }>('SELECT count(DISTINCT backend)::int AS backends FROM runs');
    expect(rows[0].backends).toBe(1);
  });

  it('a runner waits for the lock, says so, and fails after its wait timeout', async () => {
    await dir.write('0001_a.sql', 'CREATE TABLE a (x int);');
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
      const lines: string[] = [];
      const err = await applyMigrations({ ...opts(), lockWaitTimeoutMs: 300, log: (l) => lines.push(l) }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LockTimeoutError);
      expect(lines[0]).toMatch(/^waiting for the migration lock \(held by pid \d+/);
      expect(await tableExists(db.pool, 'a')).toBe(false);

      // Released while a runner waits: it proceeds.
      const pending = applyMigrations({ ...opts(), lockWaitTimeoutMs: 10_000 });
      await new Promise((r) => setTimeout(r, 200));
      await holder.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY]);
      expect((await pending).applied).toEqual(['0001_a.sql']);
    } finally {
      await holder.end();
    }
  });
});
