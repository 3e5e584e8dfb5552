// Issue 16 #3: an application login can give itself role-level defaults that every later connection inherits
// (PostgreSQL lets any role ALTER ROLE itself SET ...). The scheduled guard (ops.job_guard_login_roles, every
// minute) removes them and logs an error line. The attack is made per database (IN DATABASE this test's own),
// so the other test files sharing the login are not affected.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratedDatabase, type TestDb } from '../support/db.js';

let db: TestDb;
beforeAll(async () => {
  db = await migratedDatabase();
});
afterAll(async () => {
  // Never leave the setting behind, whatever happened above.
  const c = new pg.Client({ connectionString: db.superUrl });
  await c.connect().then(() => c.query(`ALTER ROLE pgkit_app_login IN DATABASE ${pg.escapeIdentifier(db.name)} RESET ALL`)).catch(() => undefined);
  await c.end().catch(() => undefined);
  await db?.drop();
});

async function appSetting(name: string): Promise<string> {
  const c = new pg.Client({ connectionString: db.appUrl });
  await c.connect();
  try {
    return (await c.query<{ v: string }>(`SELECT current_setting($1) AS v`, [name])).rows[0].v;
  } finally {
    await c.end();
  }
}

describe('a login that reconfigured itself', () => {
  it('can do it (the attack), and the guard job removes it and logs an error line', async () => {
    // The guard is cluster-wide, so the test stack's own pg_cron guard (every minute, in its default database) or
    // another file's ops.enforce_login_settings may remove this setting first, logging the line in its own
    // database. Then this call finds nothing: the attack is made again, up to five times, until this database's
    // guard is the one that removed it (each window is a few milliseconds a minute).
    let removedHere = 0;
    let attackTookHold = 0;
    for (let attempt = 1; attempt <= 5 && removedHere === 0; attempt++) {
      const app = new pg.Client({ connectionString: db.appUrl });
      await app.connect();
      try {
        await app.query(`ALTER ROLE CURRENT_USER IN DATABASE ${pg.escapeIdentifier(db.name)} SET default_transaction_read_only = on`);
      } finally {
        await app.end();
      }
      // Another guard may already have removed it between the ALTER and this connection: then try again.
      if ((await appSetting('default_transaction_read_only')) !== 'on') continue;
      attackTookHold++;

      const admin = new pg.Client({ connectionString: db.url });
      await admin.connect();
      try {
        const r = (await admin.query('SELECT ops.job_guard_login_roles() AS r')).rows[0].r as { status?: string };
        expect(r.status).not.toBe('skipped');
        removedHere = (await admin.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM ops.logs WHERE event_type = 'login_role_reconfigured' AND metadata->>'database' = $1",
          [db.name])).rows[0].n;
      } finally {
        await admin.end();
      }
      expect(await appSetting('default_transaction_read_only')).toBe('off');
    }
    expect(attackTookHold).toBeGreaterThanOrEqual(1); // the login did reconfigure itself (the attack works)
    expect(removedHere).toBe(1);
    const { rows } = await db.pool.query<{ level: string; metadata: { role: string; database: string } }>(
      "SELECT level, metadata FROM ops.logs WHERE event_type = 'login_role_reconfigured' AND metadata->>'database' = $1",
      [db.name],
    );
    expect(rows.map((l) => [l.level, l.metadata.role])).toEqual([['error', 'pgkit_app_login']]);
  });

  it('is scheduled every minute with the other jobs', async () => {
    const { rows } = await db.pool.query("SELECT schedule, command FROM ops.job_definitions() WHERE jobname = 'pgkit_guard_login_roles'");
    expect(rows).toEqual([{ schedule: '* * * * *', command: 'SELECT ops.job_guard_login_roles()' }]);
  });
});
