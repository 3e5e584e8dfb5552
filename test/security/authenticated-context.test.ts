// Issue 16, "An authenticated context": the database verifies who is calling (sql/0930). Every attempt below is
// what an attacker holding the app login (one SQL injection) would try; before 0930 the first three succeeded
// with nothing but the other tenant's uuids (set_config + app.context_stamp).
import { createHmac, randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signContextToken, type ContextSigningKey } from '../../src/db/context-token.js';
import { AUTHENTICATE_SQL, withContext } from '../../src/db/context.js';
import { contextKeysOf } from '../../src/local/secrets.js';
import { stackSecrets } from '../../src/local/stack.js';
import { testStack } from '../support/stack.js';
import { leaveVerifiedContextBehind } from '../support/context.js';
import { twoTenants } from './two-tenants.js';

const t = twoTenants();
const userKey = (): ContextSigningKey => contextKeysOf(stackSecrets(testStack)).find((k) => k.purpose === 'user')!;
const workerKey = (): ContextSigningKey => contextKeysOf(stackSecrets(testStack)).find((k) => k.purpose === 'worker')!;

let worker: pg.Pool;
let pooled: pg.Pool;
beforeAll(async () => {
  worker = new pg.Pool({ connectionString: t.db.workerUrl, max: 2 });
  pooled = new pg.Pool({ connectionString: t.db.appPooledUrl, max: 2 });
});
afterAll(async () => {
  await worker?.end();
  await pooled?.end();
});

/** B's project ids as the app login sees them in one transaction that first runs `setup`. */
async function seenProjects(pool: pg.Pool, setup: (c: pg.PoolClient) => Promise<unknown>): Promise<string[]> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await setup(c);
    return (await c.query<{ id: string }>('SELECT id FROM app.projects')).rows.map((r) => r.id);
  } finally {
    await c.query('ROLLBACK').catch(() => {});
    c.release();
  }
}

/** The claims of a valid user token, with `over` applied (undefined deletes a claim). */
function token(key: ContextSigningKey, claims: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const full: Record<string, unknown> = { iat: now, exp: now + 300, ...claims };
  for (const k of Object.keys(full)) if (full[k] === undefined) delete full[k];
  const h = Buffer.from(JSON.stringify({ alg: 'HS256', kid: key.kid, ...header })).toString('base64url');
  const p = Buffer.from(JSON.stringify(full)).toString('base64url');
  return `${h}.${p}.${createHmac('sha256', key.secret).update(`${h}.${p}`).digest('base64url')}`;
}

/** A token whose payload (and header, when given) are these raw texts, validly signed by `key`. */
function signedRaw(key: ContextSigningKey, payload: string, header = JSON.stringify({ alg: 'HS256', kid: key.kid })): string {
  const h = Buffer.from(header).toString('base64url');
  const p = Buffer.from(payload).toString('base64url');
  return `${h}.${p}.${createHmac('sha256', key.secret).update(`${h}.${p}`).digest('base64url')}`;
}

describe('the database authenticates the request context', () => {
  it("a user's own signed token opens their organization, directly and through PgBouncer", async () => {
    for (const pool of [t.app, pooled]) {
      const seen = await withContext(pool, t.db.signer.user(t.a.orgId, t.a.userId), async (tx) =>
        (await tx.query('SELECT app.current_org_id()::text AS o, app.current_user_id()::text AS u, (SELECT array_agg(id::text) FROM app.projects) AS p')).rows[0]);
      expect(seen).toEqual({ o: t.a.orgId, u: t.a.userId, p: [t.a.projectId] });
    }
  });

  it('setting the context by hand, as before 0930, opens nothing', async () => {
    const seen = await seenProjects(t.app, (c) => c.query(
      "SELECT set_config('app.org_id', $1, true), set_config('app.user_id', $2, true), set_config('app.ctx_role', 'user', true), set_config('app.ctx_xact', 'x', true)",
      [t.b.orgId, t.b.userId]));
    expect(seen).toEqual([]);
    await expect(t.app.query("SELECT app.context_stamp('a', 'b')")).rejects.toMatchObject({ code: '42883' });
  });

  it("a MAC copied from the attacker's own verified transaction does not carry over to another tenant", async () => {
    const seen = await seenProjects(t.app, async (c) => {
      await c.query(AUTHENTICATE_SQL, [t.db.signer.user(t.a.orgId, t.a.userId).token]);
      // Keep A's MAC, swap in B's ids: the MAC covers the values it was made for.
      await c.query("SELECT set_config('app.org_id', $1, true), set_config('app.user_id', $2, true)", [t.b.orgId, t.b.userId]);
    });
    expect(seen).toEqual([]);
  });

  it("a verified context kept at session level is nobody's in the next transaction (pooled leftovers)", async () => {
    const c = await t.app.connect();
    try {
      await leaveVerifiedContextBehind(c, t.a.orgId, t.a.userId, t.db.signer);
      await c.query('BEGIN');
      const r = (await c.query('SELECT app.current_org_id() AS o, app.current_user_id() AS u, (SELECT count(*) FROM app.projects)::int AS n')).rows[0];
      await c.query('COMMIT');
      expect(r).toEqual({ o: null, u: null, n: 0 });
    } finally {
      await c.query('RESET ALL').catch(() => {});
      c.release();
    }
  });

  it.each([
    ['a forged signature (a key of the attacker\'s own under the real kid)', () => token({ ...userKey(), secret: randomBytes(32) }, { sub: t.b.userId, org: t.b.orgId }), /bad signature/],
    ['an unknown key id', () => token({ ...userKey(), kid: 'attacker-key' }, { sub: t.b.userId, org: t.b.orgId }), /unknown or retired key id/],
    ['alg none', () => token(userKey(), { sub: t.b.userId, org: t.b.orgId }, { alg: 'none' }), /alg must be HS256/],
    ['no exp', () => token(userKey(), { sub: t.a.userId, org: t.a.orgId, exp: undefined }), /exp is required/],
    ['an expired token', () => token(userKey(), { sub: t.a.userId, org: t.a.orgId, iat: 1000, exp: 2000 }), /token expired/],
    ['iat in the future', () => token(userKey(), { sub: t.a.userId, org: t.a.orgId, iat: Math.floor(Date.now() / 1000) + 3600, exp: Math.floor(Date.now() / 1000) + 7200 }), /iat is in the future/],
    ['a lifetime of a year', () => token(userKey(), { sub: t.a.userId, org: t.a.orgId, exp: Math.floor(Date.now() / 1000) + 365 * 86400 }), /lifetime/],
    ['a worker token on the app login', () => token(workerKey(), { role: 'worker', scope: 'org', org: t.b.orgId }), /worker tokens are for the worker login/],
    ['a user key signing a worker role', () => token(userKey(), { role: 'worker', scope: 'queue' }), /user key signs user tokens only/],
    ['garbage', () => 'x.y', /not a compact JWT/],
    ['bad base64 in the signature', () => `${token(userKey(), { sub: t.a.userId, org: t.a.orgId }).split('.').slice(0, 2).join('.')}.a`, /not base64url/],
    // The fast path checks the signature against every live key first: a token signed by one live key must
    // still name that key. Signed with the worker key, its header naming the user key:
    ['a signature by another live key than the header names', () => token({ ...workerKey(), kid: userKey().kid }, { sub: t.b.userId, org: t.b.orgId }), /bad signature/],
    ['a header naming an unknown key over a live key\'s signature', () => token({ ...userKey(), kid: 'attacker-key' }, { sub: t.a.userId, org: t.a.orgId }), /unknown or retired key id/],
    ['a header that is not an object, signed by a live key', () => signedRaw(userKey(), JSON.stringify({ sub: t.a.userId, org: t.a.orgId }), '[1]'), /must be JSON objects/],
  ])('refuses %s with 28000 and leaves no context', async (_name, make, why) => {
    const c = await t.app.connect();
    try {
      await c.query('BEGIN');
      await c.query(AUTHENTICATE_SQL, [t.db.signer.user(t.a.orgId, t.a.userId).token]);
      await c.query('SAVEPOINT s');
      await expect(c.query(AUTHENTICATE_SQL, [make()])).rejects.toMatchObject({ code: '28000', message: expect.stringMatching(why) });
      await c.query('ROLLBACK TO SAVEPOINT s');
      // The savepoint restored A's context, which is A's own: never B's.
      expect((await c.query('SELECT app.current_org_id()::text AS o')).rows[0].o).toBe(t.a.orgId);
    } finally {
      await c.query('ROLLBACK').catch(() => {});
      c.release();
    }
    // A rejected token in a transaction of its own leaves no context at all.
    const seen = await seenProjects(t.app, (c2) => c2.query('SELECT 1 FROM (SELECT 1) x WHERE false'));
    expect(seen).toEqual([]);
  });

  it('a payload that is not JSON, though signed by a live key, is refused and leaves no context', async () => {
    // Only a holder of a signing key can make one (a signer's bug). The fast path parses signed tokens without a
    // subtransaction, so the JSON parser's own error (22P02) reaches the caller instead of 28000.
    const c = await t.app.connect();
    try {
      await c.query('BEGIN');
      await c.query(AUTHENTICATE_SQL, [t.db.signer.user(t.a.orgId, t.a.userId).token]);
      await c.query('SAVEPOINT s');
      await expect(c.query(AUTHENTICATE_SQL, [signedRaw(userKey(), 'not json')])).rejects.toMatchObject({ code: '22P02' });
      await c.query('ROLLBACK TO SAVEPOINT s');
      expect((await c.query('SELECT app.current_org_id()::text AS o')).rows[0].o).toBe(t.a.orgId);
    } finally {
      await c.query('ROLLBACK').catch(() => {});
      c.release();
    }
    // An unsigned one still gets the precise reason.
    const forged = signedRaw({ ...userKey(), secret: randomBytes(32) }, 'not json');
    await expect(seenProjects(t.app, (c2) => c2.query(AUTHENTICATE_SQL, [forged]))).rejects.toMatchObject({ code: '28000', message: expect.stringMatching(/not base64url \(JSON/) });
  });

  it("a valid token of a user for an organization they do not belong to opens nothing", async () => {
    const seen = await withContext(t.app, t.db.signer.user(t.b.orgId, t.a.userId), async (tx) =>
      (await tx.query('SELECT app.current_org_id() AS o, (SELECT count(*) FROM app.projects)::int AS n')).rows[0]);
    expect(seen).toEqual({ o: null, n: 0 });
  });

  it('the worker login refuses user tokens, and the app login reads no key material', async () => {
    await expect(withContext(worker, t.db.signer.user(t.a.orgId, t.a.userId), async () => 1)).rejects.toMatchObject({ code: '28000', message: /worker login takes worker tokens only/ });
    for (const sql of [
      'SELECT secret FROM app_private.context_signing_keys',
      'SELECT key FROM app_private.context_mac_key',
      "SELECT app_private.context_mac('a', 'b', 'user', '')",
      'SELECT * FROM app_private.verified_context()',
      "SELECT app_private.register_context_signing_key('evil', 'user', decode(repeat('00', 32), 'hex'))",
    ]) {
      await expect(t.app.query(sql), sql).rejects.toMatchObject({ code: '42501' });
    }
  });

  it('a soft-deleted user loses access at once, whatever their token says (issue 21)', async () => {
    const ctx = t.db.signer.user(t.a.orgId, t.a.userId);
    await t.db.pool.query('UPDATE app.users SET deleted_at = now() WHERE id = $1', [t.a.userId]);
    try {
      const n = await withContext(t.app, ctx, async (tx) => (await tx.query('SELECT count(*)::int AS n FROM app.projects')).rows[0].n);
      expect(n).toBe(0);
    } finally {
      await t.db.pool.query('UPDATE app.users SET deleted_at = NULL WHERE id = $1', [t.a.userId]);
    }
  });

  it('signing keys rotate with two live at once; a retired key signs nothing', async () => {
    const admin = new pg.Client({ connectionString: t.db.url });
    await admin.connect();
    try {
      const next: ContextSigningKey = { kid: `user-rotation-${Date.now()}`, purpose: 'user', secret: randomBytes(32) };
      await admin.query('SELECT app_private.register_context_signing_key($1, $2, $3)', [next.kid, next.purpose, next.secret]);
      await admin.query('SELECT app_private.register_context_signing_key($1, $2, $3)', [next.kid, next.purpose, next.secret]); // idempotent
      await expect(admin.query('SELECT app_private.register_context_signing_key($1, $2, $3)', ['user-third', 'user', randomBytes(32)]))
        .rejects.toThrow(/two user keys are live already/);
      const open = async (tok: string) => withContext(t.app, { token: tok }, async (tx) => (await tx.query('SELECT app.current_org_id()::text AS o')).rows[0].o);
      const oldTok = t.db.signer.user(t.a.orgId, t.a.userId).token;
      const newTok = signContextToken(next, { sub: t.a.userId, org: t.a.orgId });
      expect(await open(oldTok)).toBe(t.a.orgId);
      expect(await open(newTok)).toBe(t.a.orgId);
      await admin.query('SELECT app_private.retire_context_signing_key($1)', [next.kid]);
      await expect(open(newTok)).rejects.toMatchObject({ code: '28000', message: /unknown or retired key id/ });
      expect(await open(oldTok)).toBe(t.a.orgId);
      await expect(admin.query('SELECT app_private.register_context_signing_key($1, $2, $3)', [next.kid, next.purpose, next.secret]))
        .rejects.toThrow(/retired: a kid is never reused/);
    } finally {
      await admin.end();
    }
  });
});

describe('the queue is for workers with a worker token, and a lease token proves the lease (issue 16 #1)', () => {
  const queued = async (orgId: string, projectId: string) =>
    (await t.db.pool.query<{ id: string }>(
      "INSERT INTO app.episode_schedule_queue (organization_id, project_id, scheduled_for) VALUES ($1, $2, now() - interval '1 minute') RETURNING id",
      [orgId, projectId])).rows[0].id;

  it('the app login cannot claim, complete, fail or reap, with any context or none', async () => {
    for (const sql of [
      "SELECT * FROM app.claim_queue_items('x', 1000)",
      "SELECT app.complete_queue_item(gen_random_uuid(), gen_random_uuid())",
      "SELECT app.fail_queue_item(gen_random_uuid(), gen_random_uuid(), 'e')",
      'SELECT app.reap_expired_queue_leases()',
    ]) {
      await expect(t.app.query(sql), sql).rejects.toMatchObject({ code: '42501' });
      await expect(withContext(t.app, t.db.signer.user(t.a.orgId, t.a.userId), (tx) => tx.query(sql)), sql).rejects.toMatchObject({ code: '42501' });
    }
  });

  it("the worker login needs a worker token; an org-scoped one claims only its organization's items", async () => {
    const itemA = await queued(t.a.orgId, t.a.projectId);
    const itemB = await queued(t.b.orgId, t.b.projectId);
    await expect(worker.query("SELECT * FROM app.claim_queue_items('w', 10)")).rejects.toMatchObject({ code: '42501', message: /needs a worker token/ });
    const claimed = await withContext(worker, t.db.signer.worker({ orgId: t.a.orgId }), async (tx) =>
      (await tx.query<{ id: string; organization_id: string; lease_token: string }>("SELECT id, organization_id, lease_token FROM app.claim_queue_items('w', 1000)")).rows);
    expect(claimed.map((r) => r.id)).toContain(itemA);
    expect(claimed.map((r) => r.id)).not.toContain(itemB);
    expect(new Set(claimed.map((r) => r.organization_id))).toEqual(new Set([t.a.orgId]));
    const lease = claimed.find((r) => r.id === itemA)!.lease_token;
    expect(lease).toMatch(/^[0-9a-f-]{36}$/);

    // Another worker, same organization, guessing or with its own claim's token: refused.
    const q = withContext.bind(null, worker, t.db.signer.worker('queue'));
    expect(await q(async (tx) => (await tx.query('SELECT app.complete_queue_item($1, gen_random_uuid()) AS ok', [itemA])).rows[0].ok)).toBe(false);
    expect(await q(async (tx) => (await tx.query("SELECT app.fail_queue_item($1, gen_random_uuid(), 'x') AS s", [itemA])).rows[0].s)).toBeNull();
    // An org-scoped worker of B cannot complete A's item even with its token.
    expect(await withContext(worker, t.db.signer.worker({ orgId: t.b.orgId }), async (tx) =>
      (await tx.query('SELECT app.complete_queue_item($1, $2) AS ok', [itemA, lease])).rows[0].ok)).toBe(false);
    // The holder completes it.
    expect(await withContext(worker, t.db.signer.worker({ orgId: t.a.orgId }), async (tx) =>
      (await tx.query('SELECT app.complete_queue_item($1, $2) AS ok', [itemA, lease])).rows[0].ok)).toBe(true);
    // A queue-scoped token claims across organizations.
    const all = await q(async (tx) => (await tx.query<{ id: string }>("SELECT id FROM app.claim_queue_items('w2', 1000)")).rows.map((r) => r.id));
    expect(all).toContain(itemB);
  });
});

describe('a narrower worker role, and no e-mail oracle for the app (issue 16 #11, #5 register_user)', () => {
  it('the worker login, even with its organization\'s worker token, cannot act as a person', async () => {
    for (const sql of [
      "SELECT app.create_organization('Worker Org', 'worker-org')",
      `SELECT app.add_member('${randomUUIDv4()}', 'member')`,
      `SELECT app.accept_membership('${randomUUIDv4()}')`,
      `SELECT app.soft_delete('projects', '${randomUUIDv4()}')`,
    ]) {
      await expect(withContext(worker, t.db.signer.worker({ orgId: t.a.orgId }), (tx) => tx.query(sql)), sql)
        .rejects.toMatchObject({ code: '42501', message: /not for the worker login/ });
    }
  });

  it('neither login can call register_user (its unique violation said whether an e-mail exists)', async () => {
    const email = (await t.db.pool.query<{ email: string }>('SELECT email FROM app.users WHERE id = $1', [t.b.userId])).rows[0].email;
    for (const pool of [t.app, worker]) {
      await expect(pool.query('SELECT app.register_user($1)', [email])).rejects.toMatchObject({ code: '42501' });
    }
  });
});

function randomUUIDv4(): string {
  return '10000000-0000-4000-8000-000000000000'.replace(/0/g, () => Math.floor(Math.random() * 16).toString(16));
}

describe('statistics views show no ids and no tokens (issue 16: pg_stat_statements and pg_stat_activity stay readable)', () => {
  it('after requests with bind parameters, pg_stat_statements as the app login holds neither the ids nor the token', async () => {
    const ctx = t.db.signer.user(t.a.orgId, t.a.userId);
    await withContext(t.app, ctx, (tx) => tx.query('SELECT id FROM app.projects WHERE id = $1 AND organization_id = $2', [t.a.projectId, t.a.orgId]));
    const leaked = await t.app.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM extensions.pg_stat_statements WHERE query LIKE '%' || $1 || '%' OR query LIKE '%' || $2 || '%' OR query LIKE '%' || $3 || '%'",
      [t.a.orgId, t.a.projectId, ctx.token.split('.')[2]]);
    // The statements are there, normalized: the control that the view is readable and tracked them.
    const seen = await t.app.query<{ n: number }>("SELECT count(*)::int AS n FROM extensions.pg_stat_statements WHERE query LIKE '%app.authenticate_context($1)%'");
    expect(seen.rows[0].n).toBeGreaterThan(0);
    expect(leaked.rows[0].n).toBe(0);
  });
});
