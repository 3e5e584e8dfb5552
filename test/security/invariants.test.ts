// app_private.assert_security_invariants() (sql/definitions/, called by sql/0599 and sql/0850) holds on the built
// bundle, and fails, naming the object, on each kind of breach: a function executable by PUBLIC, a group role
// that bypasses RLS, an open tenant table, an object with another owner, a definer function without a pinned
// search_path. Each breach is made inside a transaction that is rolled back (role attributes are transactional
// too), so nothing leaks to the other test files sharing the cluster.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratedDatabase, type TestDb } from '../support/db.js';

let db: TestDb;
beforeAll(async () => {
  db = await migratedDatabase();
});
afterAll(async () => {
  await db?.drop();
});

async function inRolledBack(breach: string): Promise<string> {
  const c: pg.PoolClient = await db.pool.connect();
  try {
    await c.query('BEGIN');
    await c.query(breach);
    const err = await c.query('SELECT app_private.assert_security_invariants()').then(
      () => null,
      (e: Error) => e,
    );
    return err ? err.message : 'no error';
  } finally {
    await c.query('ROLLBACK').catch(() => undefined);
    c.release();
  }
}

describe('security invariants', () => {
  it('hold on the built bundle', async () => {
    await expect(db.pool.query('SELECT app_private.assert_security_invariants()')).resolves.toBeDefined();
    const { rows } = await db.pool.query<{ f: string }>(
      `SELECT p.oid::regprocedure::text AS f FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE n.nspname IN ('app', 'app_private', 'audit', 'ops') AND has_function_privilege('public', p.oid, 'EXECUTE')`,
    );
    expect(rows).toEqual([]);
  });

  it.each([
    ['a function executable by PUBLIC', 'GRANT EXECUTE ON FUNCTION app.queue_backoff(integer) TO PUBLIC', /executable by PUBLIC.*app\.queue_backoff\(integer\)/],
    ['a function created by a role without the default-privilege revoke', "SET LOCAL ROLE pgkit_owner; ALTER DEFAULT PRIVILEGES FOR ROLE pgkit_owner GRANT EXECUTE ON FUNCTIONS TO PUBLIC; CREATE FUNCTION app.leaky() RETURNS int LANGUAGE sql AS 'SELECT 1'; RESET ROLE", /executable by PUBLIC.*app\.leaky\(\)/],
    ['a group role that bypasses RLS', 'ALTER ROLE pgkit_readonly BYPASSRLS', /SUPERUSER or BYPASSRLS: pgkit_readonly/],
    ['a tenant table without forced RLS', 'ALTER TABLE app.projects NO FORCE ROW LEVEL SECURITY', /without forced row-level security: app\.projects/],
    ['an object owned by another role', 'ALTER TABLE app.projects OWNER TO pgkit_maintenance', /not owned by pgkit_owner: app\.projects/],
    ['a definer function without a pinned search_path', 'ALTER FUNCTION app.current_org_id() RESET search_path', /without a pinned search_path: app\.current_org_id\(\)/],
  ])('fail on %s, naming it', async (_what, breach, message) => {
    expect(await inRolledBack(breach)).toMatch(message);
  });
});
