// Definitions (sql/definitions/): one file per function or view holding its current form, applied after the
// versioned file it names, re-applied when its content changes, recorded in pgkit_migrations.definition_applies.
// And rewritten versioned files (-- pgkit:replaces): counted as applied where the ledger holds the old content.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  applyMigrations,
  DriftError,
  fileChecksum,
  formatPlan,
  formatStatus,
  loadMigrations,
  MigrationError,
  migrationStatus,
  planMigrations,
} from '../../src/migrate/index.js';
import { freshDatabase, type TestDb } from '../support/db.js';
import { definitionApplies, ledgerRows, migrationDir, type MigrationDir } from './helpers.js';

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

const answer = (n: number) =>
  `-- pgkit:after 0001_table.sql\nCREATE OR REPLACE FUNCTION public.answer() RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT ${n} $$;\n`;
const callAnswer = async () => (await db.pool.query<{ a: number }>('SELECT public.answer() AS a')).rows[0].a;

describe('definitions', () => {
  it('are applied right after the versioned file they name, before the next one, and recorded', async () => {
    await dir.write('0001_table.sql', 'CREATE TABLE t (x int);');
    // 0002 uses the function: it must exist by then, on a fresh database.
    await dir.write('0002_use.sql', 'INSERT INTO t SELECT public.answer();');
    await dir.write('definitions/public.answer.sql', answer(42));
    const r = await applyMigrations(opts());
    expect(r.applied).toEqual(['0001_table.sql', 'definitions/public.answer.sql', '0002_use.sql']);
    expect((await db.pool.query('SELECT x FROM t')).rows).toEqual([{ x: 42 }]);
    expect((await ledgerRows(db.pool)).map((l) => l.name)).toEqual(['0001_table.sql', '0002_use.sql']);
    expect(await definitionApplies(db.pool)).toEqual([{ name: 'definitions/public.answer.sql', checksum: fileChecksum(answer(42)) }]);
    // Unchanged: nothing to do.
    expect((await applyMigrations(opts())).applied).toEqual([]);
  });

  it('an edited definition is re-applied (not drift), and status, plan and the ledger say so', async () => {
    await dir.write('0001_table.sql', 'CREATE TABLE t (x int);');
    await dir.write('definitions/public.answer.sql', answer(1));
    await applyMigrations(opts());
    expect(await callAnswer()).toBe(1);

    await dir.write('definitions/public.answer.sql', answer(2));
    const status = await migrationStatus(opts());
    expect(status.pending).toEqual([{ name: 'definitions/public.answer.sql', kind: 'definition', transactional: true, outOfOrder: false, reason: 'changed' }]);
    expect(status.drifted).toEqual([]);
    expect(formatStatus(status)).toMatch(/definitions\/public\.answer\.sql\s+pending \(changed\)\s+1/);
    const plan = await planMigrations(opts());
    expect(plan.refusal).toBeNull();
    expect(formatPlan(plan)).toMatch(/definitions\/public\.answer\.sql\s+yes\s+1\s+definition changed: re-applied/);

    const logs: string[] = [];
    const r = await applyMigrations({ ...opts(), log: (l) => logs.push(l) });
    expect(r.applied).toEqual(['definitions/public.answer.sql']);
    expect(logs.join('\n')).toMatch(/applied definitions\/public\.answer\.sql \(changed: re-applied\)/);
    expect(await callAnswer()).toBe(2);
    expect((await definitionApplies(db.pool)).map((d) => d.checksum)).toEqual([fileChecksum(answer(1)), fileChecksum(answer(2))]);
    expect(formatStatus(await migrationStatus(opts()))).toMatch(/definitions\/public\.answer\.sql\s+applied\s+2/);
  });

  it('an edited versioned file is still refused, and nothing runs, not even a changed definition', async () => {
    await dir.write('0001_table.sql', 'CREATE TABLE t (x int);');
    await dir.write('definitions/public.answer.sql', answer(1));
    await applyMigrations(opts());
    await dir.write('0001_table.sql', 'CREATE TABLE t (x int, y int);');
    await dir.write('definitions/public.answer.sql', answer(2));
    await expect(applyMigrations(opts())).rejects.toBeInstanceOf(DriftError);
    expect(await callAnswer()).toBe(1);
  });

  it('a failing definition rolls back with its ledger row, names file and line, and stops the run', async () => {
    await dir.write('0001_table.sql', 'CREATE TABLE t (x int);');
    await dir.write('0002_after.sql', 'CREATE TABLE after_def (x int);');
    await dir.write('definitions/public.broken.sql', '-- pgkit:after 0001_table.sql\nCOMMENT ON TABLE t IS \'half\';\nSELECT nope FROM t;\n');
    const err = (await applyMigrations(opts()).catch((e: unknown) => e)) as MigrationError;
    expect(err).toBeInstanceOf(MigrationError);
    expect([err.file, err.line, err.sqlState]).toEqual(['definitions/public.broken.sql', 3, '42703']);
    const { rows } = await db.pool.query(`SELECT obj_description('t'::regclass) AS c, to_regclass('after_def') AS a`);
    expect(rows[0]).toEqual({ c: null, a: null });
    expect(await definitionApplies(db.pool)).toEqual([]);
  });

  it('are ordered by what they require, then by name; a definition whose file is gone is reported, not refused', async () => {
    await dir.write('0001_table.sql', 'SELECT 1;');
    await dir.write('definitions/public.b_base.sql', '-- pgkit:after 0001_table.sql\nCREATE FUNCTION public.b_base() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;');
    await dir.write(
      'definitions/public.a_user.sql',
      '-- pgkit:after 0001_table.sql\n-- pgkit:requires public.b_base\nCREATE FUNCTION public.a_user() RETURNS int LANGUAGE sql AS $$ SELECT public.b_base() $$;',
    );
    expect((await applyMigrations(opts())).applied).toEqual(['0001_table.sql', 'definitions/public.b_base.sql', 'definitions/public.a_user.sql']);
    await dir.remove('definitions/public.a_user.sql');
    const logs: string[] = [];
    await applyMigrations({ ...opts(), log: (l) => logs.push(l) });
    expect(logs.join('\n')).toMatch(/definitions\/public\.a_user\.sql was applied here but its file is gone/);
    expect(formatStatus(await migrationStatus(opts()))).toMatch(/definitions\/public\.a_user\.sql\s+FILE GONE/);
  });

  it('refuses a definition without a valid anchor, a missing requirement, a requirement anchored later, a cycle, or a no-transaction marker', async () => {
    await dir.write('0001_a.sql', 'SELECT 1;');
    await dir.write('0002_b.sql', 'SELECT 2;');
    const check = async (files: Record<string, string>, message: RegExp) => {
      for (const [n, s] of Object.entries(files)) await dir.write(`definitions/${n}`, s);
      await expect(loadMigrations(dir.path)).rejects.toThrow(message);
      for (const n of Object.keys(files)) await dir.remove(`definitions/${n}`);
    };
    await check({ 'public.f.sql': 'SELECT 1;' }, /public\.f\.sql: needs exactly one '-- pgkit:after NNNN_name\.sql' line/);
    await check({ 'public.f.sql': '-- pgkit:after 0009_nope.sql\nSELECT 1;' }, /'-- pgkit:after 0009_nope\.sql' names no versioned file/);
    await check({ 'public.f.sql': '-- pgkit:after 0001_a.sql\n-- pgkit:requires public.g\nSELECT 1;' }, /'-- pgkit:requires public\.g' names no definition/);
    await check(
      { 'public.f.sql': '-- pgkit:after 0001_a.sql\n-- pgkit:requires public.g\nSELECT 1;', 'public.g.sql': '-- pgkit:after 0002_b.sql\nSELECT 1;' },
      /requires public\.g, which is applied after 0002_b\.sql, later than its own anchor 0001_a\.sql/,
    );
    await check(
      { 'public.f.sql': '-- pgkit:after 0001_a.sql\n-- pgkit:requires public.g\nSELECT 1;', 'public.g.sql': '-- pgkit:after 0001_a.sql\n-- pgkit:requires public.f\nSELECT 1;' },
      /definitions require each other in a cycle/,
    );
    await check({ 'public.f.sql': '-- pgkit:after 0001_a.sql\n-- pgkit:no-transaction\nSELECT 1;' }, /a definition always runs in one transaction/);
    await check({ 'Public.F.sql': '-- pgkit:after 0001_a.sql\nSELECT 1;' }, /definition file name .*Public\.F\.sql is not valid/);
  });
});

describe('rewritten versioned files (-- pgkit:replaces)', () => {
  const original = 'CREATE TABLE t (x int);\nCREATE FUNCTION public.answer() RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT 1 $$;\n';

  it('a database that applied the old content counts the new one as applied and records the rewrite', async () => {
    await dir.write('0001_table.sql', original);
    await applyMigrations(opts());
    // The function moves out into its definition; the versioned file says which content it stands for.
    await dir.write('0001_table.sql', `-- pgkit:replaces sha256:${fileChecksum(original)}\nCREATE TABLE t (x int);\n`);
    await dir.write('definitions/public.answer.sql', answer(1));
    const status = await migrationStatus(opts());
    expect(status.drifted).toEqual([]);
    expect(status.rewritten.map((r) => r.name)).toEqual(['0001_table.sql']);
    expect(formatStatus(status)).toMatch(/0001_table\.sql\s+applied \(rewritten\)/);
    const r = await applyMigrations(opts());
    expect(r).toMatchObject({ applied: ['definitions/public.answer.sql'], rewritten: ['0001_table.sql'] });
    const { rows } = await db.pool.query('SELECT checksum, replaced_checksum FROM pgkit_migrations.ledger');
    expect(rows).toEqual([{ checksum: (await loadMigrations(dir.path))[0].checksum, replaced_checksum: fileChecksum(original) }]);
    expect(await callAnswer()).toBe(1);
    expect((await applyMigrations(opts())).rewritten).toEqual([]);
  });

  it('a rewrite that does not name the applied content is drift', async () => {
    await dir.write('0001_table.sql', original);
    await applyMigrations(opts());
    await dir.write('0001_table.sql', `-- pgkit:replaces sha256:${fileChecksum('something else')}\nCREATE TABLE t (x int);\n`);
    await expect(applyMigrations(opts())).rejects.toBeInstanceOf(DriftError);
    await dir.write('0001_table.sql', `-- pgkit:replaces sha256:nothex\nSELECT 1;\n`);
    await expect(loadMigrations(dir.path)).rejects.toThrow(/'-- pgkit:replaces sha256:nothex' is not valid/);
  });
});
