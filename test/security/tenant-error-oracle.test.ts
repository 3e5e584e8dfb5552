// No error-message oracle on other tenants' rows (seed 000 "validate RLS policies can't be bypassed").
// A write that names a parent row (a chat session, a project, an episode, a block) outside the request context's
// organization — or, for a chat message, a session of another user — must be refused with ONE generic error,
// sql/0420's 23503 "<table>.<fk> not found in this organization", whatever the state of that parent. Before the
// fix, BEFORE triggers fired in name order and 0134/0630's session-open check and rate limit
// (chat_messages_session_open) ran before tenant_session_id: a member of organization A who knew a session id of
// organization B learnt from the error whether that session was completed, soft-deleted or had just been written
// to (rate limit), and, with organization_id/user_id left out (filled from the parent), got past the tenant
// trigger altogether. Everything runs as the application login role through PgBouncer (transaction pooling),
// with the request context and the encryption keyring the service uses; B's own member first proves that the same
// inserts DO tell these session states apart, so one identical answer means the tenant check hid them.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORG_A, ORG_B, TENANT_TABLES_SQL, USER_A, USER_B, orgChecksum, seedTwoTenants, tenantParents } from '../../src/security/attacks.js';
import { generateKey, withSecureContext, type Keyring } from '../../src/security/keyring.js';
import { migratedDatabase, type TestDb } from '../support/db.js';
import { asUser, asWorker } from '../support/context.js';

let db: TestDb;
let app: pg.Pool;
let worker: pg.Pool;
const keyring: Keyring = { koracle: generateKey() };
const A = asUser(ORG_A, USER_A);
const B = asUser(ORG_B, USER_B);
const USER_A2 = '0a000000-0000-4000-8000-0000000000a2'; // a second member of A: their session is not A's user's either

/** B's sessions in the four states the old trigger order gave away, and one of A's other member. */
const S = {
  open: randomUUID(),
  completed: randomUUID(),
  deleted: randomUUID(),
  justMessaged: randomUUID(),
  otherMemberOfA: randomUUID(),
};
/** A's own parents (the base rows below) and B's (what the attacker names). */
let own: { project: string; episode: string; block: string; session: string };
let theirs: { project: string; episode: string; block: string; session: string };
let tenantTables: { name: string; has_org: boolean; is_partition: boolean }[] = [];

class Rollback extends Error {}

/** Every field of a server error the client can see, so "identical" means identical. */
function visible(e: unknown) {
  const x = e as pg.DatabaseError;
  if (!(x instanceof Error) || x.code === undefined) throw e;
  return {
    code: x.code, constraint: x.constraint, message: x.message, schema: x.schema, table: x.table, column: x.column,
    dataType: x.dataType, detail: x.detail, hint: x.hint, where: x.where, severity: x.severity, routine: x.routine,
  };
}

/** One INSERT as the app login role (through PgBouncer) in the given context; the error it gets, or 'inserted'. */
async function attempt(ctx: typeof A, table: string, row: Record<string, unknown>) {
  const cols = Object.keys(row);
  const sql = `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`;
  try {
    await withSecureContext(app, ctx, keyring, async (tx) => {
      await tx.query(sql, Object.values(row));
      throw new Rollback(); // a success is rolled back: nothing of it stays
    }, { retries: 0 });
  } catch (e) {
    if (e instanceof Rollback) return 'inserted' as const;
    return visible(e);
  }
  throw new Error('unreachable');
}

const generic = (table: string, fk: string) => expect.objectContaining({
  code: '23503', constraint: `${table}_${fk}_tenant_fkey`, message: `${table}.${fk} not found in this organization`,
  schema: 'app', table,
});

beforeAll(async () => {
  db = await migratedDatabase();
  const admin = await db.pool.connect();
  try {
    await seedTwoTenants(admin, keyring);
    tenantTables = (await admin.query(TENANT_TABLES_SQL)).rows;
    own = await tenantParents(admin, ORG_A);
    theirs = await tenantParents(admin, ORG_B);
    await admin.query(`INSERT INTO app.users (id, email) VALUES ($1, 'oracle-a2@example.com')`, [USER_A2]);
    await admin.query(`INSERT INTO app.memberships (organization_id, user_id, role) VALUES ($1, $2, 'member')`, [ORG_A, USER_A2]);
    const session = (id: string, org: string, user: string) =>
      admin.query('INSERT INTO app.chat_sessions (id, organization_id, user_id) VALUES ($1, $2, $3)', [id, org, user]);
    await session(S.open, ORG_B, USER_B);
    await session(S.completed, ORG_B, USER_B);
    await session(S.deleted, ORG_B, USER_B);
    await session(S.justMessaged, ORG_B, USER_B);
    await session(S.otherMemberOfA, ORG_A, USER_A2);
    await admin.query('UPDATE app.chat_sessions SET is_completed = true WHERE id = ANY ($1)', [[S.completed, S.otherMemberOfA]]);
    await admin.query('UPDATE app.chat_sessions SET deleted_at = now(), deleted_by = $2 WHERE id = $1', [S.deleted, USER_B]);
    // The rate limit (sql/0630) made deterministic: one user message per hour per session, and B's user has
    // just written one. (The default row is what applies to every organization here.)
    await admin.query(`UPDATE ops.rate_limits SET min_interval = interval '1 hour' WHERE name = 'chat_messages.user' AND organization_id IS NULL`);
    await admin.query('BEGIN');
    await admin.query(`SELECT set_config('app.enc_keys', $1, true)`, [JSON.stringify(keyring)]);
    await admin.query(`INSERT INTO app.chat_messages (session_id, role, chat_type, content) VALUES ($1, 'user', 'main', 'just now')`, [S.justMessaged]);
    await admin.query('COMMIT');
  } finally {
    admin.release();
  }
  app = new pg.Pool({ connectionString: db.appPooledUrl, max: 3 });
  worker = new pg.Pool({ connectionString: db.workerPooledUrl, max: 1 });
});

afterAll(async () => {
  await app?.end();
  await worker?.end();
  await db?.drop();
});

describe('a chat message into another tenant\'s session', () => {
  const message = (session: string, extra: Record<string, unknown> = {}) =>
    ({ session_id: session, role: 'user', chat_type: 'main', content: 'probe', ...extra });

  it('baseline: B\'s own member gets four different answers from these sessions (the states are there to leak)', async () => {
    const r = {
      open: await attempt(B, 'app.chat_messages', message(S.open)),
      completed: await attempt(B, 'app.chat_messages', message(S.completed)),
      deleted: await attempt(B, 'app.chat_messages', message(S.deleted)),
      justMessaged: await attempt(B, 'app.chat_messages', message(S.justMessaged)),
    };
    expect(r.open).toBe('inserted');
    expect(r.completed).toMatchObject({ code: '23514', constraint: 'chat_messages_session_open_check', message: expect.stringContaining('completed') });
    expect(r.deleted).toMatchObject({ code: '23514', constraint: 'chat_messages_session_open_check', message: expect.stringContaining('deleted') });
    expect(r.justMessaged).toMatchObject({ code: 'P0429' });
  });

  it('a member of A gets the identical tenant error for B\'s open, completed, soft-deleted and rate-limited sessions, with and without organization_id/user_id', async () => {
    const reference = await attempt(A, 'app.chat_messages', message(randomUUID())); // a session that does not exist
    expect(reference).toEqual(generic('chat_messages', 'session_id'));
    const ids = {
      omitted: {},
      'A\'s ids': { organization_id: ORG_A, user_id: USER_A },
      'B\'s ids': { organization_id: ORG_B, user_id: USER_B },
      'A\'s organization only': { organization_id: ORG_A },
    };
    const answers: Record<string, unknown> = {};
    for (const [state, session] of Object.entries(S)) {
      for (const [given, extra] of Object.entries(ids)) {
        for (const role of ['user', 'main_assistant'] as const) {
          answers[`${state}, ${given}, ${role}`] = await attempt(A, 'app.chat_messages', message(session, { ...extra, role }));
        }
      }
    }
    expect(Object.keys(answers)).toHaveLength(5 * 4 * 2);
    // Every answer that differs from the reference, in one readable list (a leak shows what it gave away).
    const differing = Object.entries(answers)
      .filter(([, a]) => JSON.stringify(a) !== JSON.stringify(reference))
      .map(([label, a]) => (a === 'inserted' ? `${label}: inserted` : `${label}: ${(a as ReturnType<typeof visible>).code} ${(a as ReturnType<typeof visible>).constraint ?? '-'} ${(a as ReturnType<typeof visible>).message}`));
    expect(differing).toEqual([]);
  });

  it('B\'s rows, its sessions\' counters and last_message_at included, are unchanged by all of that', async () => {
    const before = await orgChecksum(db.pool as unknown as pg.ClientBase, ORG_B, tenantTables as never);
    for (const session of [S.open, S.completed, S.deleted, S.justMessaged]) {
      await attempt(A, 'app.chat_messages', message(session));
      await attempt(A, 'app.chat_messages', message(session, { organization_id: ORG_B, user_id: USER_B }));
    }
    expect(await orgChecksum(db.pool as unknown as pg.ClientBase, ORG_B, tenantTables as never)).toBe(before);
    const counts = (await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM app.chat_messages WHERE session_id = ANY ($1)',
      [[S.open, S.completed, S.deleted, S.justMessaged]])).rows[0].n;
    expect(counts).toBe(1); // the one message B's user wrote in beforeAll
  });
});

describe('every tenant parent key: a parent outside the context is "not found in this organization", nothing more', () => {
  // One row per (table, foreign key) of sql/0420, built from A's own parents; the case swaps the key for B's
  // parent (existing and live) or for an id that exists nowhere, with and without organization_id.
  const base = (): Record<string, Record<string, unknown>> => ({
    'app.episodes': { project_id: own.project, episode_number: 900, title: 'probe' },
    'app.blocks': { episode_id: own.episode, position: 900, content: 'probe' },
    'app.highlights': { user_id: USER_A, episode_id: own.episode, block_id: own.block, quote: 'q', start_offset: 0, end_offset: 1 },
    'app.planning_notes': { project_id: own.project, user_id: USER_A, note: 'probe', incorporated_episode_id: own.episode },
    'app.agent_memory': { project_id: own.project, content: 'probe' },
    'app.chat_sessions': { user_id: USER_A, project_id: own.project, episode_id: own.episode },
    'app.chat_messages': { session_id: own.session, role: 'main_assistant', chat_type: 'main', content: 'probe' },
    'app.episode_schedule_queue': { project_id: own.project, episode_id: own.episode, scheduled_for: new Date(Date.now() + 86_400_000 * 30).toISOString() },
    'app.token_usage': { user_id: USER_A, project_id: own.project, episode_id: own.episode, chat_session_id: own.session, operation: 'chat', model_used: 'm', input_tokens: 1, output_tokens: 1, cost_gbp: 0 },
    'app.derived_insights': { project_id: own.project, session_id: own.session, applied_to_episode_id: own.episode, applied_at: new Date(Date.now() + 60_000).toISOString(), insight_type: 'preference', insight_value: { k: 1 } },
    'app.engagement_events': { user_id: USER_A, episode_id: own.episode, block_id: own.block, event_type: 'episode_opened' },
  });
  const parentOf: Record<string, keyof typeof own> = {
    project_id: 'project', episode_id: 'episode', incorporated_episode_id: 'episode', applied_to_episode_id: 'episode',
    block_id: 'block', session_id: 'session', chat_session_id: 'session',
  };

  it('covers every tenant trigger, and each base row is accepted as it is (the probes can succeed)', async () => {
    const keys = (await db.pool.query<{ t: string; fk: string }>(`
      SELECT DISTINCT format('%I.%I', n.nspname, c.relname) AS t, split_part(encode(g.tgargs, 'escape'), '\\000', 1) AS fk
      FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE g.tgfoid = 'app_private.tg__tenant_parent()'::regprocedure AND NOT c.relispartition`)).rows;
    expect(keys.length).toBe(20);
    for (const k of keys) expect(base()[k.t], k.t).toHaveProperty(k.fk);
    for (const [table, row] of Object.entries(base())) expect(await attempt(A, table, row), table).toBe('inserted');
  });

  it('B\'s parent or no parent at all: the same 23503 for every key, organization_id given or filled from the parent', async () => {
    let cases = 0;
    for (const [table, row] of Object.entries(base())) {
      for (const fk of Object.keys(row).filter((c) => c in parentOf)) {
        const rel = table.split('.')[1];
        const answers = [
          await attempt(A, table, { ...row, [fk]: randomUUID() }),
          await attempt(A, table, { ...row, [fk]: theirs[parentOf[fk]] }),
          await attempt(A, table, { ...row, [fk]: theirs[parentOf[fk]], organization_id: ORG_A }),
          await attempt(A, table, { ...row, [fk]: theirs[parentOf[fk]], organization_id: ORG_B }),
        ];
        expect(answers[0], `${table}.${fk}`).toEqual(generic(rel, fk));
        for (const a of answers) expect({ key: `${table}.${fk}`, a }).toEqual({ key: `${table}.${fk}`, a: answers[0] });
        cases++;
      }
    }
    expect(cases).toBe(20);
  });

  it('a queue item for B\'s project gets the same answer whether or not B is over its daily cost limit', async () => {
    const row = { project_id: theirs.project, scheduled_for: new Date(Date.now() + 86_400_000 * 40).toISOString() };
    const under = await attempt(A, 'app.episode_schedule_queue', row);
    await db.pool.query(`INSERT INTO app.token_usage_daily (organization_id, usage_date, total_cost_gbp)
      VALUES ($1, (now() AT TIME ZONE 'UTC')::date, 1000000) ON CONFLICT (organization_id, usage_date) DO UPDATE SET total_cost_gbp = 1000000`, [ORG_B]);
    const over = await attempt(A, 'app.episode_schedule_queue', row);
    await db.pool.query(`DELETE FROM app.token_usage_daily WHERE organization_id = $1 AND usage_date = (now() AT TIME ZONE 'UTC')::date`, [ORG_B]);
    expect(under).toEqual(generic('episode_schedule_queue', 'project_id'));
    expect(over).toEqual(under);
  });

  it('rag_embeddings (polymorphic source, sql/0142, checked under the caller\'s own policies): B\'s live, deleted or missing source read alike', async () => {
    const vec = `[${Array.from({ length: 1536 }, () => '0.01').join(',')}]`;
    const probe = async (source: string) => {
      const a = await attempt(A, 'app.rag_embeddings', { source_type: 'chat_session', source_id: source, organization_id: ORG_A, embedding: vec });
      return a === 'inserted' ? a : { ...a, message: a.message.replace(source, '<id>') };
    };
    const missing = await probe(randomUUID());
    expect(missing).toMatchObject({ code: '23503', constraint: 'rag_embeddings_source_fkey' });
    for (const s of [theirs.session, S.open, S.completed, S.deleted, S.justMessaged, S.otherMemberOfA]) expect(await probe(s)).toEqual(missing);
  });
});

describe('who the context layer applies to', () => {
  it('not to the owner\'s SECURITY DEFINER functions: a queue worker (any context) still completes another organization\'s item with its episode', async () => {
    // The queue serves every organization (sql/0610; the service lets only worker tokens call it). Completing
    // sets episode_id, which fires the tenant triggers inside a function running as pgkit_owner: the exact layer
    // applies (the episode is the item's organization's), the context layer does not.
    const item = (await db.pool.query<{ id: string }>(
      `INSERT INTO app.episode_schedule_queue (organization_id, project_id, scheduled_for) VALUES ($1, $2, now() - interval '1 minute') RETURNING id`,
      [ORG_B, theirs.project])).rows[0].id;
    // The queue is the worker login's, with a queue-scoped worker token (sql/0930).
    const done = await withSecureContext(worker, asWorker('queue'), keyring, async (tx) => {
      const claimed = (await tx.query<{ id: string; lease_token: string }>(`SELECT id, lease_token FROM app.claim_queue_items('oracle-worker', 10)`)).rows;
      expect(claimed.map((r) => r.id)).toContain(item);
      const lease = claimed.find((r) => r.id === item)!.lease_token;
      return (await tx.query<{ ok: boolean }>('SELECT app.complete_queue_item($1, $2, $3) AS ok', [item, lease, theirs.episode])).rows[0].ok;
    });
    expect(done).toBe(true);
    expect((await db.pool.query('SELECT status, episode_id FROM app.episode_schedule_queue WHERE id = $1', [item])).rows[0])
      .toEqual({ status: 'completed', episode_id: theirs.episode });
  });

  it('to the app login whatever its context: none, or one naming B without being B\'s member, gets the same error for B\'s completed session', async () => {
    const row = { session_id: S.completed, role: 'user', chat_type: 'main', content: 'probe' };
    const reference = await attempt(A, 'app.chat_messages', { ...row, session_id: randomUUID() });
    expect(await attempt(asUser(randomUUID(), randomUUID()), 'app.chat_messages', row)).toEqual(reference);
    expect(await attempt(asUser(ORG_B, USER_A), 'app.chat_messages', row)).toEqual(reference);
    expect(await attempt(asUser(ORG_B, USER_A), 'app.chat_messages', { ...row, organization_id: ORG_B, user_id: USER_B })).toEqual(reference);
  });
});

describe('firing order', () => {
  it('on every table with tenant triggers, they fire before every other BEFORE trigger (PostgreSQL fires them in name order)', async () => {
    const r = await db.pool.query<{ table: string; triggers: string[]; fns: string[] }>(`
      SELECT format('%I.%I', n.nspname, c.relname) AS table,
             array_agg(g.tgname::text ORDER BY g.tgname) AS triggers,
             array_agg(p.proname::text ORDER BY g.tgname) AS fns
      FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_proc p ON p.oid = g.tgfoid
      WHERE NOT g.tgisinternal AND (g.tgtype & 2) <> 0 AND (g.tgtype & 1) <> 0   -- BEFORE, FOR EACH ROW
        AND n.nspname IN ('app', 'ops') AND NOT c.relispartition
        AND c.oid IN (SELECT tgrelid FROM pg_trigger WHERE tgfoid = 'app_private.tg__tenant_parent()'::regprocedure)
      GROUP BY 1 ORDER BY 1`);
    expect(r.rows.length).toBe(11);
    for (const t of r.rows) {
      const tenant = t.fns.filter((f) => f.startsWith('tg__tenant_')).length;
      expect({ table: t.table, first: t.fns.slice(0, tenant) }).toEqual({ table: t.table, first: t.fns.filter((f) => f.startsWith('tg__tenant_')) });
      expect(tenant, t.table).toBeGreaterThan(0);
    }
  });
});
