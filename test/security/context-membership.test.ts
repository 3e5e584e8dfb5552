// Defense in depth for the request context (seed 000: "validate RLS policies can't be bypassed"): the policies
// admit rows by app.current_org_id(), which honours app.org_id only when app.user_id is an active member of that
// organization (sql/0400). A user of organization A whose context names organization B — an application bug or a
// forged header — sees nothing of B and changes nothing; a removed (soft-deleted) membership loses access at once.
// Everything runs as the application login role through PgBouncer (transaction pooling), like the service. The
// superuser and a legitimate member of B first prove that the same probes DO return B's rows, so 0 means the
// membership rule is what stopped them.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORG_A, ORG_B, TENANT_TABLES_SQL, USER_A, USER_B, orgChecksum, seedTwoTenants } from '../../src/security/attacks.js';
import { generateKey, withSecureContext, type Keyring } from '../../src/security/keyring.js';
import { migratedDatabase, type TestDb } from '../support/db.js';
import { AUTHENTICATE_SQL } from '../../src/db/context.js';
import { asUser, asWorker } from '../support/context.js';

let db: TestDb;
let app: pg.Pool;
const keyring: Keyring = { kctx: generateKey() };
const USER_C = '0c000000-0000-4000-8000-0000000000c1'; // a member of A whose membership is removed below
let orgTables: string[] = []; // tenant tables with an organization_id column the app may SELECT, parents only
let tenantTables: { name: string; has_org: boolean; is_partition: boolean }[] = [];

/** One transaction as the app login role through PgBouncer with the given context (no retries). */
function asApp<T>(org: string, user: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  return withSecureContext(app, asUser(org, user), keyring, fn, { retries: 0 });
}

/** Rows of `org` visible in every org-scoped table, per table (only tables with at least one row). */
async function visible(c: pg.ClientBase, org: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of orgTables) {
    const n = (await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${t} WHERE organization_id = $1`, [org])).rows[0].n;
    if (n > 0) out[t] = n;
  }
  return out;
}

beforeAll(async () => {
  db = await migratedDatabase();
  const admin = await db.pool.connect();
  try {
    await seedTwoTenants(admin, keyring);
    await admin.query(`INSERT INTO app.users (id, email) VALUES ($1, 'sec-c@example.com')`, [USER_C]);
    await admin.query(`INSERT INTO app.memberships (organization_id, user_id, role) VALUES ($1, $2, 'member')`, [ORG_A, USER_C]);
    tenantTables = (await admin.query(TENANT_TABLES_SQL)).rows;
    // The ones the application may read at all (audit.audit_logs is closed to it by privilege, not by policy).
    const readable = new Set((await admin.query<{ t: string }>(
      `SELECT t FROM unnest($1::text[]) t WHERE has_table_privilege('pgkit_app', t, 'SELECT')`,
      [tenantTables.filter((t) => t.has_org && !t.is_partition).map((t) => t.name)])).rows.map((r) => r.t));
    orgTables = [...readable];
  } finally {
    admin.release();
  }
  app = new pg.Pool({ connectionString: db.appPooledUrl, max: 3 });
});

afterAll(async () => {
  await app?.end();
  await db?.drop();
});

describe('a context naming an organization the user is not a member of', () => {
  it('baseline: the superuser sees B in 14+ tables, and B\'s own member sees B through the same probes', async () => {
    const su = await visible(db.pool as unknown as pg.ClientBase, ORG_B);
    expect(Object.keys(su).length).toBeGreaterThanOrEqual(14);
    const member = await asApp(ORG_B, USER_B, (c) => visible(c, ORG_B));
    // The member sees B in the tables whose policy is organization-wide (projects, episodes, ...), and its own
    // rows in the personal ones: at least the projects, episodes, blocks, sessions and messages.
    for (const t of ['app.projects', 'app.episodes', 'app.blocks', 'app.chat_sessions', 'app.chat_messages', 'app.memberships']) {
      expect(member[t], t).toBeGreaterThan(0);
    }
  });

  it('user A with org B: current_org_id() is NULL and no table returns a row of B, nor of A', async () => {
    const r = await asApp(ORG_B, USER_A, async (c) => ({
      org: (await c.query('SELECT app.current_org_id() AS o')).rows[0].o,
      user: (await c.query('SELECT app.current_user_id() AS u')).rows[0].u,
      b: await visible(c, ORG_B),
      a: await visible(c, ORG_A),
      anyTenant: (await c.query(`SELECT count(*)::int AS n FROM app.projects`)).rows[0].n,
      decrypted: (await c.query(`SELECT count(*)::int AS n FROM app.chat_messages_decrypted`)).rows[0].n,
    }));
    // Not even A's own log lines: since sql/0880 the user-scoped policies (app.users, ops.logs) also need the
    // organization of the context to be one the user is a member of (issue 16 #2).
    expect(r).toEqual({ org: null, user: USER_A, b: {}, a: {}, anyTenant: 0, decrypted: 0 });
  });

  it('user A with org B changes nothing of B: updates and deletes touch 0 rows, inserts are refused, definer functions refuse', async () => {
    const before = await orgChecksum(db.pool as unknown as pg.ClientBase, ORG_B, tenantTables as never);
    const bProject = (await db.pool.query('SELECT id FROM app.projects WHERE organization_id = $1', [ORG_B])).rows[0].id;
    const bSession = (await db.pool.query('SELECT id FROM app.chat_sessions WHERE organization_id = $1', [ORG_B])).rows[0].id;
    const changed = await asApp(ORG_B, USER_A, async (c) => ({
      updProjects: (await c.query(`UPDATE app.projects SET name = 'pwned' WHERE organization_id = $1`, [ORG_B])).rowCount,
      updEpisodes: (await c.query(`UPDATE app.episodes SET title = 'pwned' WHERE organization_id = $1`, [ORG_B])).rowCount,
      updOrg: (await c.query(`UPDATE app.organizations SET name = 'pwned' WHERE id = $1`, [ORG_B])).rowCount,
      softDelete: (await c.query('SELECT app.soft_delete($1, $2) AS ok', ['projects', bProject])).rows[0].ok,
    }));
    expect(changed).toEqual({ updProjects: 0, updEpisodes: 0, updOrg: 0, softDelete: false });
    for (const [label, sql, params] of [
      ['insert project into B', `INSERT INTO app.projects (organization_id, name) VALUES ($1, 'planted')`, [ORG_B]],
      // An assistant message: sql/0630's rate limit (user messages only) would otherwise answer first, by timing.
      ['insert message into B\'s session', `INSERT INTO app.chat_messages (organization_id, user_id, session_id, role, chat_type, content) VALUES ($1, $2, $3, 'main_assistant', 'main', 'planted')`, [ORG_B, USER_A, bSession]],
      ['insert token usage for B', `INSERT INTO app.token_usage (organization_id, operation, model_used, input_tokens, output_tokens, cost_gbp) VALUES ($1, 'chat', 'm', 1, 1, 0)`, [ORG_B]],
      ['add self to B', `SELECT app.add_member($1, 'owner')`, [USER_A]],
    ] as const) {
      await expect(asApp(ORG_B, USER_A, (c) => c.query(sql, [...params])), label).rejects.toMatchObject({ code: expect.stringMatching(/^(42501|23503)$/) });
    }
    expect(await orgChecksum(db.pool as unknown as pg.ClientBase, ORG_B, tenantTables as never)).toBe(before);
  });

  it('A\'s own context still works (the rule does not lock out members)', async () => {
    const r = await asApp(ORG_A, USER_A, async (c) => ({
      org: (await c.query('SELECT app.current_org_id() AS o')).rows[0].o,
      projects: (await c.query('SELECT count(*)::int AS n FROM app.projects')).rows[0].n,
      inserted: (await c.query(`INSERT INTO app.projects (organization_id, name) VALUES ($1, 'mine') RETURNING id`, [ORG_A])).rowCount,
    }));
    expect(r).toEqual({ org: ORG_A, projects: 1, inserted: 1 });
  });

  it('the organization without a user is nothing for the application login role (a request that lost its user)', async () => {
    // A token without its user is refused (sql/0930), and so is a worker token for A on the app login.
    await expect(asApp(ORG_A, '', async (c) => visible(c, ORG_A))).rejects.toMatchObject({ code: '28000', message: /sub and org/ });
    await expect(withSecureContext(app, asWorker({ orgId: ORG_A }), keyring, (c) => visible(c, ORG_A), { retries: 0 }))
      .rejects.toMatchObject({ code: '28000', message: /worker tokens are for the worker login/ });
  });
});

describe('a removed membership', () => {
  it('loses access at once when soft-deleted, and regains it when invited again and accepting', async () => {
    const before = await asApp(ORG_A, USER_C, async (c) => (await c.query('SELECT count(*)::int AS n FROM app.projects')).rows[0].n);
    expect(before).toBeGreaterThan(0); // baseline: the member sees A's projects
    await db.pool.query('UPDATE app.memberships SET deleted_at = now(), deleted_by = $2 WHERE organization_id = $1 AND user_id = $3', [ORG_A, USER_A, USER_C]);
    const after = await asApp(ORG_A, USER_C, async (c) => ({
      org: (await c.query('SELECT app.current_org_id() AS o')).rows[0].o,
      a: await visible(c, ORG_A),
      updated: (await c.query(`UPDATE app.projects SET name = 'by a former member' WHERE organization_id = $1`, [ORG_A])).rowCount,
    }));
    expect(after).toEqual({ org: null, a: {}, updated: 0 });
    await expect(asApp(ORG_A, USER_C, (c) => c.query(`INSERT INTO app.projects (organization_id, name) VALUES ($1, 'x')`, [ORG_A])))
      .rejects.toMatchObject({ code: '42501' });
    // An owner invites the member again and the member accepts (the membership's deleted_at is cleared): access is back.
    const invitation = await asApp(ORG_A, USER_A, async (c) => (await c.query<{ id: string }>(`SELECT app.add_member($1, 'member') AS id`, [USER_C])).rows[0].id);
    await asApp(ORG_A, USER_C, (c) => c.query('SELECT app.accept_membership($1)', [invitation]));
    const again = await asApp(ORG_A, USER_C, async (c) => (await c.query('SELECT count(*)::int AS n FROM app.projects')).rows[0].n);
    expect(again).toBe(before);
  });
});

describe('queue workers: an organization without a user, for pgkit_worker logins only', () => {
  it('a pgkit_worker login acts for the organization its worker token names; a user token is refused on it', async () => {
    const role = `pgkit_test_worker_${process.pid}_${Date.now().toString(36)}`;
    const password = randomUUID();
    await db.pool.query(`CREATE ROLE ${pg.escapeIdentifier(role)} LOGIN PASSWORD ${pg.escapeLiteral(password)} IN ROLE pgkit_worker`);
    const url = new URL(db.url);
    url.username = role;
    url.password = password;
    const w = new pg.Client({ connectionString: url.toString() });
    await w.connect();
    try {
      const run = async (token: string | null) => {
        await w.query('BEGIN');
        try {
          if (token !== null) await w.query(AUTHENTICATE_SQL, [token]);
          return { org: (await w.query('SELECT app.current_org_id() AS o')).rows[0].o, projects: (await w.query('SELECT count(*)::int AS n FROM app.projects')).rows[0].n };
        } finally {
          await w.query('ROLLBACK');
        }
      };
      // A worker token scoped to B acts for B (sql/0930); a user token, even a valid one, is refused on this
      // login; no token is no organization.
      expect(await run(asWorker({ orgId: ORG_B }).token)).toEqual({ org: ORG_B, projects: 1 });
      await expect(run(asUser(ORG_B, USER_A).token)).rejects.toMatchObject({ code: '28000' });
      expect(await run(null)).toEqual({ org: null, projects: 0 });
    } finally {
      await w.end();
      await db.pool.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(role)}`);
    }
  });
});
