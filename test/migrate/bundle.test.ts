// The real sql/ bundle on an empty database: everything builds, and a second apply does nothing.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { applyMigrations, loadMigrations, migrationStatus } from '../../src/migrate/index.js';
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
  expect(second).toEqual({ applied: [], alreadyApplied: files.length, checksum: first.checksum });

  const status = await migrationStatus({ connectionString: db.url });
  expect([status.pending, status.drifted, status.missing]).toEqual([[], [], []]);
  expect(status.ledger.map((e) => e.name)).toEqual(files.map((f) => f.name));
});
