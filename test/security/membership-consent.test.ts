// Issue 16 #6 and #5 (add_member): nobody joins an organization without accepting, and inviting says nothing
// about which user ids exist. Break-in style through the app login.
import { randomUUID } from 'node:crypto';
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

const as = <T>(orgId: string, userId: string, sql: string, params: unknown[]) =>
  withContext(app, { orgId, userId }, async (tx) => (await tx.query<{ r: T }>(sql, params)).rows[0].r);
const memberships = async (org: string, user: string) =>
  Number((await db.pool.query('SELECT count(*) AS n FROM app.memberships WHERE organization_id = $1 AND user_id = $2 AND deleted_at IS NULL', [org, user])).rows[0].n);

describe('joining an organization takes the invited user\'s consent', () => {
  it("an owner's add_member makes an invitation, not a membership; the user's acceptance makes the membership", async () => {
    const invitation = await as<string>(a.orgId, a.userId, "SELECT app.add_member($1, 'member') AS r", [b.userId]);
    expect(await memberships(a.orgId, b.userId)).toBe(0);
    // B's user cannot see A's projects yet.
    expect(await as<number>(a.orgId, b.userId, 'SELECT count(*)::int AS r FROM app.projects', [])).toBe(0);
    await as(b.orgId, b.userId, 'SELECT app.accept_membership($1) AS r', [invitation]);
    expect(await memberships(a.orgId, b.userId)).toBe(1);
    expect(await as<number>(a.orgId, b.userId, 'SELECT count(*)::int AS r FROM app.projects', [])).toBeGreaterThan(0);
  });

  it('nobody else can accept an invitation, and a foreign, missing or used one gets the same answer', async () => {
    const c = await tenant(db.pool);
    const invitation = await as<string>(c.orgId, c.userId, "SELECT app.add_member($1, 'admin') AS r", [a.userId]);
    const byOther = await failure(as(b.orgId, b.userId, 'SELECT app.accept_membership($1) AS r', [invitation]));
    const missing = await failure(as(b.orgId, b.userId, 'SELECT app.accept_membership($1) AS r', [randomUUID()]));
    expect([byOther.code, missing.code]).toEqual(['P0002', 'P0002']);
    expect(await memberships(c.orgId, b.userId)).toBe(0);
    await as(a.orgId, a.userId, 'SELECT app.accept_membership($1) AS r', [invitation]);
    const used = await failure(as(a.orgId, a.userId, 'SELECT app.accept_membership($1) AS r', [invitation]));
    expect(used.code).toBe('P0002');
  });

  it('inviting an id that does not exist answers like inviting one that does (no existence oracle), and records nothing', async () => {
    const ghost = randomUUID();
    const r = await as<string>(a.orgId, a.userId, "SELECT app.add_member($1, 'member') AS r", [ghost]);
    expect(r).toMatch(/^[0-9a-f-]{36}$/);
    const n = Number((await db.pool.query('SELECT count(*) AS n FROM app.membership_invitations WHERE user_id = $1', [ghost])).rows[0].n);
    expect(n).toBe(0);
  });

  it('only an owner or admin may invite; the app cannot touch the invitations table', async () => {
    const c = await tenant(db.pool);
    const member = randomUUID();
    await db.pool.query('INSERT INTO app.users (id, email) VALUES ($1, $2)', [member, `m-${member}@example.com`]);
    await db.pool.query("INSERT INTO app.memberships (organization_id, user_id, role) VALUES ($1, $2, 'member')", [c.orgId, member]);
    expect((await failure(as(c.orgId, member, "SELECT app.add_member($1, 'owner') AS r", [b.userId]))).code).toBe('42501');
    expect((await failure(withContext(app, { orgId: c.orgId, userId: c.userId }, (tx) => tx.query('SELECT * FROM app.membership_invitations')))).code).toBe('42501');
  });
});
