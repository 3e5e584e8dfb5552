// Neutral outcomes from the SECURITY DEFINER functions the app login may call (issue 16 #5). Each takes an id or a
// name from the caller; another tenant's must be answered like one that exists nowhere. The exception is
// create_organization's slug: a public, globally unique name (like a username), which the caller has to be told
// is taken. Its answer is bounded instead (sql/1007): a taken slug gives NULL (no error, so the attempt is kept),
// every attempt is the caller's log line, and past the ops.rate_limits 'organizations.create' limit the call is
// refused. The attacker is organization A's member on the app login through PgBouncer.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ORG_A, ORG_B, USER_A, tenantParents } from '../../src/security/attacks.js';
import { withContext } from '../../src/db/context.js';
import { generateKey, type Keyring } from '../../src/security/keyring.js';
import { asUser } from '../support/context.js';
import { seededTwoTenants } from './two-tenants.js';

const keyring: Keyring = { kdef: generateKey() };
const t = seededTwoTenants(keyring);
const A = asUser(ORG_A, USER_A);

/** One call as A: its result, or the error's SQLSTATE. */
async function asA<T>(sql: string, params: unknown[]): Promise<T | string> {
  try {
    return await withContext(t.app, A, async (tx) => (await tx.query(sql, params)).rows[0]?.r as T, { retries: 0 });
  } catch (e) {
    const code = (e as pg.DatabaseError).code;
    if (code === undefined) throw e;
    return `error ${code}`;
  }
}
const createOrg = (slug: string) => asA<string | null>('SELECT app.create_organization($1, $2) AS r', [`Org ${slug}`, slug]);
const attempts = async () => Number((await t.db.pool.query(
  "SELECT count(*) AS n FROM ops.logs WHERE user_id = $1 AND event_type = 'organization_create_attempt'", [USER_A])).rows[0].n);

describe('create_organization: a taken slug is an answer, not an error, and asking is rate-limited (sql/1007)', () => {
  it('a free slug creates the organization; B\'s slug and A\'s own taken slug both answer NULL and create nothing', async () => {
    expect(await createOrg(`free-${randomUUID().slice(0, 8)}`)).toMatch(/^[0-9a-f-]{36}$/);
    const before = Number((await t.db.pool.query('SELECT count(*) AS n FROM app.organizations')).rows[0].n);
    expect(await createOrg('sec-org-b')).toBeNull(); // B's (seeded by src/security/attacks.ts)
    expect(await createOrg('sec-org-a')).toBeNull(); // A's own: the same answer
    expect(Number((await t.db.pool.query('SELECT count(*) AS n FROM app.organizations')).rows[0].n)).toBe(before);
    expect((await t.db.pool.query("SELECT name FROM app.organizations WHERE slug = 'sec-org-b'")).rows).toEqual([{ name: 'Org b' }]);
  });

  it('every attempt is the caller\'s log line, and past the limit the call is refused with P0429 whatever the slug', async () => {
    const used = await attempts();
    expect(used).toBeGreaterThanOrEqual(3); // the three calls above, the taken slugs included
    await t.db.pool.query("UPDATE ops.rate_limits SET max_events = $1 WHERE name = 'organizations.create' AND organization_id IS NULL", [used + 2]);
    try {
      expect(await createOrg('sec-org-b')).toBeNull();
      expect(await createOrg(`free-${randomUUID().slice(0, 8)}`)).toMatch(/^[0-9a-f-]{36}$/);
      expect(await createOrg('sec-org-b')).toBe('error P0429');
      expect(await createOrg(`free-${randomUUID().slice(0, 8)}`)).toBe('error P0429');
      expect(await attempts()).toBe(used + 2);
    } finally {
      await t.db.pool.query("UPDATE ops.rate_limits SET max_events = 10 WHERE name = 'organizations.create' AND organization_id IS NULL");
    }
  });
});

describe('the other definer functions answer another tenant\'s id like a missing one', () => {
  it('soft_delete: B\'s row and a random id both give false, on every soft-deletable table, and B\'s rows stay', async () => {
    const answers: Record<string, unknown> = {};
    for (const table of ['projects', 'episodes', 'blocks', 'agent_memory', 'derived_insights', 'planning_notes', 'highlights', 'chat_sessions', 'chat_messages']) {
      const b = (await t.db.pool.query(`SELECT id FROM app.${table} WHERE organization_id = $1 LIMIT 1`, [ORG_B])).rows[0].id as string;
      answers[table] = [await asA('SELECT app.soft_delete($1, $2) AS r', [table, b]), await asA('SELECT app.soft_delete($1, $2) AS r', [table, randomUUID()])];
    }
    expect(Object.values(answers).every((a) => JSON.stringify(a) === JSON.stringify([false, false]))).toBe(true);
    expect((await t.db.pool.query('SELECT count(*)::int AS n FROM app.projects WHERE organization_id = $1 AND deleted_at IS NOT NULL', [ORG_B])).rows[0].n).toBe(0);
  });

  it('write_log: naming B\'s chat session answers like naming a random one, and no line carries B\'s session', async () => {
    const theirs = await tenantParents(t.db.pool as unknown as pg.ClientBase, ORG_B);
    const call = (session: string) => asA("SELECT app.write_log('info', 'session_started', 'probe', '{}', $1) AS r", [session]);
    expect(await call(theirs.session)).toEqual(await call(randomUUID()));
    // Refused, both: the line would otherwise carry another tenant's session id.
    expect(await call(theirs.session)).toBe('error 22023');
    const lines = await t.db.pool.query("SELECT count(*)::int AS n FROM ops.logs WHERE session_id = $1 AND message = 'probe'", [theirs.session]);
    expect(lines.rows[0].n).toBe(0);
    // A's own session is accepted and recorded.
    const mine = (await t.db.pool.query('SELECT id FROM app.chat_sessions WHERE organization_id = $1 AND user_id = $2 LIMIT 1', [ORG_A, USER_A])).rows[0].id as string;
    expect(await call(mine)).toBe(''); // void: written
    expect((await t.db.pool.query("SELECT count(*)::int AS n FROM ops.logs WHERE session_id = $1 AND message = 'probe'", [mine])).rows[0].n).toBe(1);
  });
});
