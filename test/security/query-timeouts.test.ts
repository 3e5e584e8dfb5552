// Issue 17 #1: query timeouts per role. Each login of a pgkit group role carries the statement_timeout and
// idle_in_transaction_session_timeout of ops.expected_login_settings() (sql/1000, applied by
// ops.enforce_login_settings and kept by the guard job of issue 16 #3, which now compares against these expected
// settings instead of removing every setting). Proven on the real server: the admin (CREATEROLE, no superuser) sets
// them; a pg_sleep past the app's limit fails with the statement-timeout error, direct and through PgBouncer.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratedDatabase, type TestDb } from '../support/db.js';
import { testStack, urls } from '../support/stack.js';

let db: TestDb;

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => {});
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}
const guard = () => withClient(db.url, async (c) => (await c.query('SELECT ops.job_guard_login_roles() AS r')).rows[0].r as { status: string; rows_affected: number });
const settingsOf = async (role: string) =>
  (await db.pool.query<{ s: string[] | null }>('SELECT setconfig AS s FROM pg_db_role_setting WHERE setrole = $1::regrole AND setdatabase = 0', [role])).rows[0]?.s ?? [];
const show = (url: string) =>
  withClient(url, async (c) => (await c.query("SELECT current_setting('statement_timeout') AS st, current_setting('idle_in_transaction_session_timeout') AS idle")).rows[0]);

beforeAll(async () => {
  db = await migratedDatabase();
  // The admin, as the bundle and the scheduled job do: gives every login its expected settings.
  await guard();
  // Pooled server connections opened before the settings existed keep their old ones; start this database's afresh.
  await db.pool.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND usename <> current_user');
});
afterAll(async () => {
  await guard().catch(() => undefined);
  await db?.drop();
});

describe('query timeouts per role (issue 17 #1)', () => {
  it('each login carries the statement and idle-in-transaction timeouts of its group, set by the admin (no superuser)', async () => {
    const admin = (await db.pool.query('SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = $1', [testStack.adminUser])).rows[0];
    expect(admin).toEqual({ rolsuper: false, rolcreaterole: true });
    expect(await show(db.appUrl)).toEqual({ st: '30s', idle: '1min' });
    expect(await show(urls(db.name).workerPooled)).toEqual({ st: '5min', idle: '5min' });
    expect(await show(db.url)).toEqual({ st: '1h', idle: '10min' }); // the admin applies migrations (pgkit_migrator)
    expect((await settingsOf(testStack.appUser)).sort()).toEqual(['idle_in_transaction_session_timeout=60s', 'statement_timeout=30s']);
  });

  it('a pg_sleep past the limit fails with the statement-timeout error, direct and through PgBouncer', async () => {
    const sleep = (url: string) =>
      withClient(url, (c) => c.query('SELECT pg_sleep(31)').then(() => null, (e: { code?: string; message: string }) => ({ code: e.code, message: e.message })));
    const [direct, pooled] = await Promise.all([sleep(db.appUrl), sleep(db.appPooledUrl)]);
    expect(direct).toEqual({ code: '57014', message: 'canceling statement due to statement timeout' });
    expect(pooled).toEqual({ code: '57014', message: 'canceling statement due to statement timeout' });
  }, 60_000);

  it('the guard keeps the expected settings, and removes or restores what a login changed for itself', async () => {
    const before = (await settingsOf(testStack.appUser)).sort();
    const quiet = await guard();
    expect(quiet.rows_affected).toBe(0); // expected settings are not "reconfigured": nothing removed, nothing logged
    expect((await settingsOf(testStack.appUser)).sort()).toEqual(before);

    // The attack of issue 16 #3, cluster-wide: lift its own timeout and add another setting. A concurrent guard run
    // (the test stack's own job, another test file) may undo it first; then the attack is repeated.
    let removed: string[] | null = null;
    for (let i = 0; i < 3 && !removed; i++) {
      await withClient(db.appUrl, async (c) => {
        await c.query('ALTER ROLE CURRENT_USER SET statement_timeout = 0');
        await c.query("ALTER ROLE CURRENT_USER SET work_mem = '1GB'");
      });
      const rows = await withClient(db.url, async (c) =>
        (await c.query<{ action: string; settings: string[] }>('SELECT action, settings FROM ops.enforce_login_settings() WHERE login = $1', [testStack.appUser])).rows);
      removed = rows.find((r) => r.action === 'removed')?.settings ?? null;
    }
    expect(removed).toEqual(['statement_timeout=0', 'work_mem=1GB']);
    expect((await settingsOf(testStack.appUser)).sort()).toEqual(before);
    const log = await db.pool.query("SELECT level, metadata->'settings' AS s FROM ops.logs WHERE event_type = 'login_role_reconfigured' AND metadata->>'role' = $1 AND metadata->>'database' IS NULL", [testStack.appUser]);
    expect(log.rows).toContainEqual({ level: 'error', s: ['statement_timeout=0', 'work_mem=1GB'] });
    expect(await show(db.appUrl)).toEqual({ st: '30s', idle: '1min' });
  });
});
