// The real sql/ bundle on an empty database: everything builds, a second apply does nothing, and re-applying
// every definition (what happens to one whose file changed) leaves the catalogue exactly as it was.
import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import { applyMigrations, catalogueSnapshot, diffCatalogues, loadMigrations, migrationStatus, splitStatements } from '../../src/migrate/index.js';
import { freshDatabase, type TestDb } from '../support/db.js';

let db: TestDb;
beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  await db.drop();
});

it('applies the whole sql/ bundle to an empty database, then a second apply applies nothing', async () => {
  const files = await loadMigrations();
  const first = await applyMigrations({ connectionString: db.url });
  expect(first.applied).toEqual(files.map((f) => f.name));

  const second = await applyMigrations({ connectionString: db.url });
  expect(second).toEqual({ applied: [], alreadyApplied: files.length, checksum: first.checksum, rewritten: [] });

  const status = await migrationStatus({ connectionString: db.url });
  expect([status.pending, status.drifted, status.missing]).toEqual([[], [], []]);
  expect(status.ledger.map((e) => e.name)).toEqual(files.filter((f) => f.kind === 'versioned').map((f) => f.name));
  expect(status.definitions.map((e) => e.name).sort()).toEqual(files.filter((f) => f.kind === 'definition').map((f) => f.name).sort());
});

it('re-applying every definition of sql/definitions/ changes nothing in the catalogue', async () => {
  const snapshot = async () => {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      return await catalogueSnapshot(c);
    } finally {
      await c.end();
    }
  };
  const before = await snapshot();
  expect(before.functions.length).toBeGreaterThan(50);
  await db.pool.query('DELETE FROM pgkit_migrations.definition_applies');
  const again = await applyMigrations({ connectionString: db.url });
  const defs = (await loadMigrations()).filter((f) => f.kind === 'definition');
  expect(again.applied).toEqual(defs.map((d) => d.name));
  expect(diffCatalogues(before, await snapshot())).toEqual([]);
});

it('no function or view is defined in a versioned file, and each definition file defines the object it is named after', async () => {
  const files = await loadMigrations();
  const creates = /^CREATE\s+(?:OR\s+REPLACE\s+)?(FUNCTION|PROCEDURE|VIEW|MATERIALIZED\s+VIEW)\s+([a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*)/i;
  const strip = (t: string) => t.replace(/--[^\n]*/g, ' ').replace(/\s+/g, ' ').trim();
  const inVersioned = files
    .filter((f) => f.kind === 'versioned')
    .flatMap((f) => splitStatements(f.sql).flatMap((s) => (creates.test(strip(s.text)) ? [`${f.name}:${s.line}`] : [])));
  expect(inVersioned, 'move these into sql/definitions/<schema>.<name>.sql').toEqual([]);
  for (const d of files.filter((f) => f.kind === 'definition')) {
    const objects = splitStatements(d.sql).flatMap((s) => {
      const m = creates.exec(strip(s.text));
      return m ? [m[2].toLowerCase()] : [];
    });
    expect(objects, d.name).toEqual([d.name.slice('definitions/'.length, -'.sql'.length)]);
  }
});
