// Fixture of the break-in tests of issue 16: a migrated database, an app-login pool (direct), and two tenants
// (organization, owner, project, episode each), set up before the file's tests and removed after them.
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { migratedDatabase, type TestDb } from '../support/db.js';
import { tenant, type Tenant } from '../behaviour/helpers.js';
import { seedTwoTenants } from '../../src/security/attacks.js';
import type { Keyring } from '../../src/security/keyring.js';

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

export interface SeededTenants {
  db: TestDb;
  /** The app login through PgBouncer. */
  app: pg.Pool;
}

/**
 * The break-in suite's organizations A and B (src/security/attacks.ts seedTwoTenants: a row in every tenant table,
 * encrypted fields under `keyring`) in a migrated database, and an app-login pool through PgBouncer; registers the
 * beforeAll/afterAll hooks, and the returned object is filled before the first test runs.
 */
export function seededTwoTenants(keyring: Keyring, poolSize = 2): SeededTenants {
  const t = {} as SeededTenants;
  beforeAll(async () => {
    t.db = await migratedDatabase();
    const admin = await t.db.pool.connect();
    try {
      await seedTwoTenants(admin, keyring);
    } finally {
      admin.release();
    }
    t.app = new pg.Pool({ connectionString: t.db.appPooledUrl, max: poolSize });
  });
  afterAll(async () => {
    await t.app?.end();
    await t.db?.drop();
  });
  return t;
}
