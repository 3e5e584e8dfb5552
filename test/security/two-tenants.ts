// Fixture of the break-in tests of issue 16: a migrated database, an app-login pool (direct), and two tenants
// (organization, owner, project, episode each), set up before the file's tests and removed after them.
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { migratedDatabase, type TestDb } from '../support/db.js';
import { tenant, type Tenant } from '../behaviour/helpers.js';

export interface TwoTenants {
  db: TestDb;
  app: pg.Pool;
  a: Tenant;
  b: Tenant;
}

/** Registers the beforeAll/afterAll hooks; the returned object is filled before the first test runs. */
export function twoTenants(): TwoTenants {
  const t = {} as TwoTenants;
  beforeAll(async () => {
    t.db = await migratedDatabase();
    t.app = new pg.Pool({ connectionString: t.db.appUrl, max: 2 });
    t.a = await tenant(t.db.pool);
    t.b = await tenant(t.db.pool);
  });
  afterAll(async () => {
    await t.app?.end();
    await t.db?.drop();
  });
  return t;
}
