// Issue 16 #12: the application could never update a user's profile: app.users' timezone CHECK calls
// app_private.is_valid_timezone(), which read app_private.timezone_names with the caller's privileges, and the app
// has no access to app_private. The profile update works now, as the user's own, and still refuses a bad
// timezone and another user's row.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withContext } from '../../src/db/context.js';
import { migratedDatabase, type TestDb } from '../support/db.js';
import { failure, tenant, type Tenant } from '../behaviour/helpers.js';

let db: TestDb;
let app: pg.Pool;
let a: Tenant;
let b: Tenant;
beforeAll(async () => {
  db = await migratedDatabase();
  app = new pg.Pool({ connectionString: db.appUrl, max: 2 });
  a = await tenant(db.pool);
  b = await tenant(db.pool);
});
afterAll(async () => {
  await app?.end();
  await db?.drop();
});

const update = (ctx: Tenant, id: string, timezone: string) =>
  withContext(app, { orgId: ctx.orgId, userId: ctx.userId }, async (tx) => (await tx.query('UPDATE app.users SET timezone = $2, display_name = $3 WHERE id = $1', [id, timezone, 'Ada'])).rowCount);

describe('profile update by the application', () => {
  it('a user changes their own timezone and display name', async () => {
    expect(await update(a, a.userId, 'Europe/Paris')).toBe(1);
    const { rows } = await db.pool.query('SELECT timezone, display_name FROM app.users WHERE id = $1', [a.userId]);
    expect(rows[0]).toEqual({ timezone: 'Europe/Paris', display_name: 'Ada' });
  });

  it('a timezone the server does not know is refused by the CHECK (23514), not by a permission error', async () => {
    const f = await failure(update(a, a.userId, 'Mars/Olympus_Mons'));
    expect([f.code, f.constraint]).toEqual(['23514', 'users_timezone_check']);
  });

  it("another user's row is not touched", async () => {
    expect(await update(a, b.userId, 'Asia/Tokyo')).toBe(0);
    const { rows } = await db.pool.query('SELECT timezone FROM app.users WHERE id = $1', [b.userId]);
    expect(rows[0].timezone).toBe('UTC');
  });

  it('the check function stays closed to the app as a reader of the timezone table', async () => {
    const f = await failure(withContext(app, { orgId: a.orgId, userId: a.userId }, (tx) => tx.query('SELECT count(*) FROM app_private.timezone_names')));
    expect(f.code).toBe('42501');
  });
});
