// Issue 16 #6 and #5 (add_member): nobody joins an organization without accepting, and inviting says nothing
// about which user ids exist. Break-in style through the app login.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { withContext } from '../../src/db/context.js';
import { failure, tenant } from '../behaviour/helpers.js';
import { twoTenants } from './two-tenants.js';
import { asUser } from '../support/context.js';

const t = twoTenants();

const as = <T>(orgId: string, userId: string, sql: string, params: unknown[]) =>
  withContext(t.app, asUser(orgId, userId), async (tx) => (await tx.query<{ r: T }>(sql, params)).rows[0].r);
const memberships = async (org: string, user: string) =>
  Number((await t.db.pool.query('SELECT count(*) AS n FROM app.memberships WHERE organization_id = $1 AND user_id = $2 AND deleted_at IS NULL', [org, user])).rows[0].n);

describe('joining an organization takes the invited user\'s consent', () => {
  it("an owner's add_member makes an invitation, not a membership; the user's acceptance makes the membership", async () => {
    const invitation = await as<string>(t.a.orgId, t.a.userId, "SELECT app.add_member($1, 'member') AS r", [t.b.userId]);
    expect(await memberships(t.a.orgId, t.b.userId)).toBe(0);
    // B's user cannot see A's projects yet.
    expect(await as<number>(t.a.orgId, t.b.userId, 'SELECT count(*)::int AS r FROM app.projects', [])).toBe(0);
    await as(t.b.orgId, t.b.userId, 'SELECT app.accept_membership($1) AS r', [invitation]);
    expect(await memberships(t.a.orgId, t.b.userId)).toBe(1);
    expect(await as<number>(t.a.orgId, t.b.userId, 'SELECT count(*)::int AS r FROM app.projects', [])).toBeGreaterThan(0);
  });

  it('nobody else can accept an invitation, and a foreign, missing or used one gets the same answer', async () => {
    const c = await tenant(t.db.pool);
    const invitation = await as<string>(c.orgId, c.userId, "SELECT app.add_member($1, 'admin') AS r", [t.a.userId]);
    const byOther = await failure(as(t.b.orgId, t.b.userId, 'SELECT app.accept_membership($1) AS r', [invitation]));
    const missing = await failure(as(t.b.orgId, t.b.userId, 'SELECT app.accept_membership($1) AS r', [randomUUID()]));
    expect([byOther.code, missing.code]).toEqual(['P0002', 'P0002']);
    expect(await memberships(c.orgId, t.b.userId)).toBe(0);
    await as(t.a.orgId, t.a.userId, 'SELECT app.accept_membership($1) AS r', [invitation]);
    const used = await failure(as(t.a.orgId, t.a.userId, 'SELECT app.accept_membership($1) AS r', [invitation]));
    expect(used.code).toBe('P0002');
  });

  it('inviting an id that does not exist answers like inviting one that does (no existence oracle), and records nothing', async () => {
    const ghost = randomUUID();
    const r = await as<string>(t.a.orgId, t.a.userId, "SELECT app.add_member($1, 'member') AS r", [ghost]);
    expect(r).toMatch(/^[0-9a-f-]{36}$/);
    const n = Number((await t.db.pool.query('SELECT count(*) AS n FROM app.membership_invitations WHERE user_id = $1', [ghost])).rows[0].n);
    expect(n).toBe(0);
  });

  it('only an owner or admin may invite; the app cannot touch the invitations table', async () => {
    const c = await tenant(t.db.pool);
    const member = randomUUID();
    await t.db.pool.query('INSERT INTO app.users (id, email) VALUES ($1, $2)', [member, `m-${member}@example.com`]);
    await t.db.pool.query("INSERT INTO app.memberships (organization_id, user_id, role) VALUES ($1, $2, 'member')", [c.orgId, member]);
    expect((await failure(as(c.orgId, member, "SELECT app.add_member($1, 'owner') AS r", [t.b.userId]))).code).toBe('42501');
    expect((await failure(withContext(t.app, asUser(c.orgId, c.userId), (tx) => tx.query('SELECT * FROM app.membership_invitations')))).code).toBe('42501');
  });
});
