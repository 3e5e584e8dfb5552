// Issue 16 #12: the application could never update a user's profile: app.users' timezone CHECK calls
// app_private.is_valid_timezone(), which read app_private.timezone_names with the caller's privileges, and the app
// has no access to app_private. The profile update works now, as the user's own, and still refuses a bad
// timezone and another user's row.
import { describe, expect, it } from 'vitest';
import { withContext } from '../../src/db/context.js';
import { failure, type Tenant } from '../behaviour/helpers.js';
import { twoTenants } from './two-tenants.js';
import { asUser } from '../support/context.js';

const t = twoTenants();

const update = (ctx: Tenant, id: string, timezone: string) =>
  withContext(t.app, asUser(ctx.orgId, ctx.userId), async (tx) => (await tx.query('UPDATE app.users SET timezone = $2, display_name = $3 WHERE id = $1', [id, timezone, 'Ada'])).rowCount);

describe('profile update by the application', () => {
  it('a user changes their own timezone and display name', async () => {
    expect(await update(t.a, t.a.userId, 'Europe/Paris')).toBe(1);
    const { rows } = await t.db.pool.query('SELECT timezone, display_name FROM app.users WHERE id = $1', [t.a.userId]);
    expect(rows[0]).toEqual({ timezone: 'Europe/Paris', display_name: 'Ada' });
  });

  it('a timezone the server does not know is refused by the CHECK (23514), not by a permission error', async () => {
    const f = await failure(update(t.a, t.a.userId, 'Mars/Olympus_Mons'));
    expect([f.code, f.constraint]).toEqual(['23514', 'users_timezone_check']);
  });

  it("another user's row is not touched", async () => {
    expect(await update(t.a, t.b.userId, 'Asia/Tokyo')).toBe(0);
    const { rows } = await t.db.pool.query('SELECT timezone FROM app.users WHERE id = $1', [t.b.userId]);
    expect(rows[0].timezone).toBe('UTC');
  });

  it('the check function stays closed to the app as a reader of the timezone table', async () => {
    const f = await failure(withContext(t.app, asUser(t.a.orgId, t.a.userId), (tx) => tx.query('SELECT count(*) FROM app_private.timezone_names')));
    expect(f.code).toBe('42501');
  });
});
