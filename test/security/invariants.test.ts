// app_private.assert_security_invariants() (sql/definitions/, called by sql/0599 and sql/0850, and by the runner
// in every file's transaction) holds on the built bundle, and fails, naming the object, on each kind of breach: a
// function executable by PUBLIC, a group role that bypasses RLS, an open tenant table, an object with another
// owner, a definer function without a pinned search_path, an application role that may choose an insert's id. Each breach is made inside a transaction that is rolled back (role attributes are transactional
// too), so nothing leaks to the other test files sharing the cluster.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MigrationError } from '../../src/migrate/errors.js';
import { LEDGER_TABLE } from '../../src/migrate/ledger.js';
import { migratedDatabase, type TestDb } from '../support/db.js';
import { applyWithLaterFile } from '../support/later-file.js';

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

describe('the migration runner checks them in every file\'s transaction', () => {
  it('rolls back a later file that breaks one, with the check\'s message, and records nothing', async () => {
    const err = await applyWithLaterFile(db.url, '9901_grant_whole_table.sql', [
      '-- 9901 (test only): a later file that grants INSERT on a whole table again, id included.',
      "COMMENT ON TABLE app.projects IS 'changed by 9901';",
      'GRANT INSERT ON app.projects TO pgkit_app;',
    ]).then(() => null, (e: Error) => e);
    expect(err).toBeInstanceOf(MigrationError);
    expect(err!.message).toMatch(/9901_grant_whole_table\.sql.*security invariants.*choose the id of an insert.*app\.projects \(pgkit_app\).*file rolled back/s);
    const { rows } = await db.pool.query(
      `SELECT has_column_privilege('pgkit_app', 'app.projects', 'id', 'INSERT') AS id_insert,
              obj_description('app.projects'::regclass, 'pg_class') AS comment,
              (SELECT count(*)::int FROM ${LEDGER_TABLE} WHERE name = '9901_grant_whole_table.sql') AS recorded`);
    expect(rows[0]).toMatchObject({ id_insert: false, recorded: 0 });
    expect(rows[0].comment).not.toBe('changed by 9901');
  });
});

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
    ['an application role that may choose an insert\'s id (sql/1004)', 'GRANT INSERT ON app.projects TO pgkit_app', /choose the id of an insert.*app\.projects \(pgkit_app\)/],
    ['the worker that may choose one', 'GRANT INSERT (id) ON app.episodes TO pgkit_worker', /choose the id of an insert.*app\.episodes \(pgkit_worker\)/],
  ])('fail on %s, naming it', async (_what, breach, message) => {
    expect(await inRolledBack(breach)).toMatch(message);
  });
});
