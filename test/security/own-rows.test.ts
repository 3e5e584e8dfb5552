// Issue 17 #8: tests that can fail. The break-in suite proves another tenant's rows are out of reach; these prove
// the owner's side: the app writes its own log line only through app.write_log (a direct INSERT, even of an own
// row, is refused by privilege, not by a policy that would also refuse a foreign copy); a profile is never inserted
// by the app, even its own; soft-deleted rows are hidden from their owner too (seed 004 #24, #27, #35).
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { withContext } from '../../src/db/context.js';
import { messageKeySetup, tx } from '../behaviour/helpers.js';
import { twoTenants } from './two-tenants.js';
import { asUser } from '../support/context.js';

const t = twoTenants();
const as = <T>(who: { orgId: string; userId: string | null }, fn: (c: pg.PoolClient) => Promise<T>) =>
  (who.userId ? withContext(t.app, asUser(who.orgId, who.userId), fn as never) : tx(t.app, null, fn as never)) as Promise<T>;
const rows = async (who: { orgId: string; userId: string | null }, sql: string, params: unknown[] = []) =>
  as(who, async (c) => (await c.query(sql, params)).rows);
const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string }) => e.code);

let sessionId: string;
let messageId: string;
beforeAll(async () => {
  const setKeys = await messageKeySetup(t.db.pool);
  sessionId = randomUUID();
  await t.db.pool.query('INSERT INTO app.chat_sessions (id, organization_id, user_id, episode_id) VALUES ($1, $2, $3, $4)', [sessionId, t.a.orgId, t.a.userId, t.a.episodeId]);
  messageId = await tx(t.db.pool, setKeys, async (c) =>
    (await c.query("INSERT INTO app.chat_messages (organization_id, session_id, user_id, role, chat_type, content) VALUES ($1, $2, $3, 'user', 'main', 'hello') RETURNING id", [t.a.orgId, sessionId, t.a.userId])).rows[0].id);
});

describe('own rows (issue 17 #8)', () => {
  it('a user writes their own log line through app.write_log: stamped with the context, readable by them, not by B; a direct INSERT of the same own row is refused by privilege', async () => {
    const type = (await t.db.pool.query('SELECT code FROM ops.log_event_types ORDER BY code LIMIT 1')).rows[0].code;
    await as(t.a, (c) => c.query("SELECT app.write_log('info', $1, 'my own line', '{\"k\": 1}')", [type]));
    const mine = await rows(t.a, "SELECT organization_id, user_id, message, metadata FROM ops.logs WHERE message = 'my own line'");
    expect(mine).toEqual([{ organization_id: t.a.orgId, user_id: t.a.userId, message: 'my own line', metadata: { k: 1 } }]);
    expect(await rows(t.b, "SELECT 1 FROM ops.logs WHERE message = 'my own line'")).toEqual([]);
    const direct = as(t.a, (c) => c.query("INSERT INTO ops.logs (level, event_type, message, organization_id, user_id) VALUES ('info', $1, 'direct', $2, $3)", [type, t.a.orgId, t.a.userId]));
    expect(await code(direct)).toBe('42501');
    // The stamp comes from the context, not from the caller: metadata cannot claim another user.
    await as(t.a, (c) => c.query("SELECT app.write_log('info', $1, 'claims B', $2::jsonb)", [type, JSON.stringify({ user_id: t.b.userId })]));
    const stamped = await t.db.pool.query("SELECT organization_id, user_id FROM ops.logs WHERE message = 'claims B'");
    expect(stamped.rows).toEqual([{ organization_id: t.a.orgId, user_id: t.a.userId }]);
  });

  it('the app inserts no profile, not even its own id (sign-up is app.register_user); it reads and updates its own', async () => {
    const own = as(t.a, (c) => c.query('INSERT INTO app.users (id, email) VALUES ($1, $2)', [randomUUID(), `self-${randomUUID()}@example.com`]));
    expect(await code(own)).toBe('42501');
    expect(await rows(t.a, 'SELECT id FROM app.users')).toEqual([{ id: t.a.userId }]);
    expect(await as(t.a, async (c) => (await c.query("UPDATE app.users SET display_name = 'Me' WHERE id = $1", [t.a.userId])).rowCount)).toBe(1);
  });

  it('a soft-deleted message is hidden from its owner; so is a soft-deleted profile', async () => {
    expect(await rows(t.a, 'SELECT id FROM app.chat_messages WHERE id = $1', [messageId])).toEqual([{ id: messageId }]);
    expect(await as(t.a, async (c) => (await c.query("SELECT app.soft_delete('chat_messages', $1, 'user request') AS ok", [messageId])).rows[0].ok)).toBe(true);
    expect(await rows(t.a, 'SELECT id FROM app.chat_messages WHERE id = $1', [messageId])).toEqual([]);
    expect((await t.db.pool.query('SELECT deleted_at IS NOT NULL AS gone FROM app.chat_messages WHERE id = $1', [messageId])).rows).toEqual([{ gone: true }]);

    // A second member of A whose profile is soft-deleted: their own profile is gone for them, and cannot be changed.
    const u = randomUUID();
    await t.db.pool.query('INSERT INTO app.users (id, email) VALUES ($1, $2)', [u, `member-${u}@example.com`]);
    await t.db.pool.query("INSERT INTO app.memberships (organization_id, user_id, role) VALUES ($1, $2, 'member')", [t.a.orgId, u]);
    expect(await rows({ orgId: t.a.orgId, userId: u }, 'SELECT id FROM app.users')).toEqual([{ id: u }]);
    await t.db.pool.query("UPDATE app.users SET deleted_at = now() WHERE id = $1", [u]);
    expect(await rows({ orgId: t.a.orgId, userId: u }, 'SELECT id FROM app.users')).toEqual([]);
    expect(await as({ orgId: t.a.orgId, userId: u }, async (c) => (await c.query("UPDATE app.users SET display_name = 'x' WHERE id = $1", [u])).rowCount)).toBe(0);
  });
});
