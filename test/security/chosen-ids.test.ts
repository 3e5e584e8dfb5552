// Database-chosen ids for the application's inserts (issue 16 #5, sql/1004). An app session that could choose a
// row's id learnt whether another tenant's row with that id exists: INSERT with B's id gave a unique violation
// where a random id inserted, and INSERT ... ON CONFLICT DO NOTHING gave 0 rows where a random id gave 1. The
// attacker here is organization A's member, on the app login through PgBouncer, knowing one id of B per table
// (ids are not secrets: EXPLAIN counters give them away, docs/security.md). Every table the app may insert into
// is tried; the answer for B's id must be the answer for an id that exists nowhere.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { ORG_A, ORG_B, USER_A, tenantParents } from '../../src/security/attacks.js';
import { generateKey, withSecureContext, type Keyring } from '../../src/security/keyring.js';
import { asUser } from '../support/context.js';
import { seededTwoTenants } from './two-tenants.js';

const keyring: Keyring = { kids: generateKey() };
const t = seededTwoTenants(keyring);
const A = asUser(ORG_A, USER_A);
let own: { project: string; episode: string; block: string; session: string };
const vec = `[${Array.from({ length: 1536 }, () => '0.02').join(',')}]`;
let n = 1000;

/** The tables the app login may insert into (any column), with B's row to aim at. */
const INSERTABLE_SQL = `
  SELECT format('%I.%I', s.nspname, c.relname) AS name
  FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
  WHERE s.nspname IN ('app', 'app_private', 'audit', 'ops') AND c.relkind IN ('r', 'p') AND NOT c.relispartition
    AND has_any_column_privilege($1, c.oid, 'INSERT')
  ORDER BY 1`;

/** A row A's member may insert into each table (unique keys varied per call so that only `id` can collide). */
const rows = (): Record<string, () => Record<string, unknown>> => ({
  'app.projects': () => ({ organization_id: ORG_A, name: 'probe' }),
  'app.episodes': () => ({ project_id: own.project, episode_number: n++, title: 'probe' }),
  'app.blocks': () => ({ episode_id: own.episode, position: n++, content: 'probe' }),
  'app.highlights': () => ({ user_id: USER_A, episode_id: own.episode, block_id: own.block, quote: 'q', start_offset: 0, end_offset: 1 }),
  'app.planning_notes': () => ({ project_id: own.project, user_id: USER_A, note: 'probe' }),
  'app.agent_memory': () => ({ project_id: own.project, content: 'probe' }),
  'app.chat_sessions': () => ({ user_id: USER_A, project_id: own.project, episode_id: own.episode }),
  'app.chat_messages': () => ({ session_id: own.session, role: 'main_assistant', chat_type: 'main', content: 'probe' }),
  'app.episode_schedule_queue': () => ({ project_id: own.project, scheduled_for: new Date(Date.now() + 86_400_000 * (30 + n++)).toISOString() }),
  'app.token_usage': () => ({ user_id: USER_A, project_id: own.project, operation: 'chat', model_used: 'm', input_tokens: 1, output_tokens: 1, cost_gbp: 0 }),
  'app.derived_insights': () => ({ project_id: own.project, session_id: own.session, insight_type: 'preference', insight_value: { k: 1 } }),
  'app.engagement_events': () => ({ user_id: USER_A, episode_id: own.episode, block_id: own.block, event_type: 'episode_opened' }),
  'app.user_events': () => ({ organization_id: ORG_A, user_id: USER_A, event_type: 'onboarding.complete' }),
  'app.rag_embeddings': () => ({ organization_id: ORG_A, source_type: 'chat_session', source_id: own.session, chunk_index: n++, embedding: vec }),
});

class Rollback extends Error {}

/** One INSERT as A (rolled back): 'inserted N' or the error's SQLSTATE and constraint. */
async function attempt(table: string, row: Record<string, unknown>, onConflict: boolean): Promise<string> {
  const cols = Object.keys(row);
  const sql = `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})${onConflict ? ' ON CONFLICT DO NOTHING' : ''}`;
  let inserted = 0;
  try {
    await withSecureContext(t.app, A, keyring, async (tx) => {
      inserted = (await tx.query(sql, Object.values(row))).rowCount ?? 0;
      throw new Rollback();
    }, { retries: 0 });
  } catch (e) {
    if (e instanceof Rollback) return `inserted ${inserted}`;
    const x = e as pg.DatabaseError;
    if (x.code === undefined) throw e;
    return `${x.code} ${x.constraint ?? '-'}`;
  }
  throw new Error('unreachable');
}

beforeAll(async () => {
  own = await tenantParents(t.db.pool as unknown as pg.ClientBase, ORG_A);
});

describe('ids of the application\'s inserts are the database\'s', () => {
  it('the app and worker logins hold INSERT on no id column (sql/1004)', async () => {
    for (const role of ['pgkit_app', 'pgkit_worker']) {
      const r = await t.db.pool.query<{ t: string }>(`
        SELECT format('%I.%I', s.nspname, c.relname) AS t
        FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'id'
        WHERE s.nspname IN ('app', 'app_private', 'audit', 'ops') AND c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND has_column_privilege($1, c.oid, a.attnum, 'INSERT') ORDER BY 1`, [role]);
      expect({ role, tables: r.rows.map((x) => x.t) }).toEqual({ role, tables: [] });
    }
  });

  it('every table the app inserts into is probed, and its row inserts when the database chooses the id', async () => {
    const tables = (await t.db.pool.query<{ name: string }>(INSERTABLE_SQL, ['pgkit_app'])).rows.map((r) => r.name);
    expect(tables.sort()).toEqual(Object.keys(rows()).sort());
    const answers: Record<string, string> = {};
    for (const [table, row] of Object.entries(rows())) answers[table] = await attempt(table, row(), false);
    expect(answers).toEqual(Object.fromEntries(Object.keys(rows()).map((t) => [t, 'inserted 1'])));
  });

  it('another tenant\'s id answers like an id that exists nowhere: plain INSERT and ON CONFLICT DO NOTHING, every table', async () => {
    const differing: string[] = [];
    const notRefused: string[] = [];
    for (const [table, row] of Object.entries(rows())) {
      const b = (await t.db.pool.query<{ id: string; created_at: Date }>(`SELECT id, created_at FROM ${table} WHERE organization_id = $1 LIMIT 1`, [ORG_B])).rows[0];
      expect(b, `B has a row in ${table}`).toBeDefined();
      // The partitioned ledgers' key is (id, created_at): the attacker names B's created_at too.
      const partitioned = ['app.token_usage', 'app.user_events', 'app.engagement_events'].includes(table);
      const at = partitioned ? { created_at: b.created_at } : {};
      for (const onConflict of [false, true]) {
        const theirs = await attempt(table, { ...row(), ...at, id: b.id }, onConflict);
        const nowhere = await attempt(table, { ...row(), ...at, id: randomUUID() }, onConflict);
        if (theirs !== nowhere) differing.push(`${table}${onConflict ? ' ON CONFLICT DO NOTHING' : ''}: B's id ${theirs}, a random id ${nowhere}`);
        if (theirs !== '42501 -') notRefused.push(`${table}${onConflict ? ' ON CONFLICT DO NOTHING' : ''}: ${theirs}`); // naming id at all is refused
      }
    }
    expect(differing).toEqual([]);
    expect(notRefused).toEqual([]);
  });
});
