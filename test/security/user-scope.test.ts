// Issue 16 #2 and #9, break-in style through the app login: a user id alone (no organization, or an organization
// the user is not a member of) opens no profile and no log line of another tenant's user; template embeddings
// follow the templates' own visibility (app.question_templates' policies: a signed-in member, or the public
// catalogue of pgkit_anon, which the app role is a member of). Each case also shows the legitimate read still works.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withContext } from '../../src/db/context.js';
import { migratedDatabase, type TestDb } from '../support/db.js';
import { tenant, type Tenant } from '../behaviour/helpers.js';
import { asUser } from '../support/context.js';

let db: TestDb;
let app: pg.Pool;
let a: Tenant;
let b: Tenant;
const templates = { enabled: randomUUID(), disabled: randomUUID(), deleted: randomUUID() };

beforeAll(async () => {
  db = await migratedDatabase();
  app = new pg.Pool({ connectionString: db.appPooledUrl, max: 2 });
  a = await tenant(db.pool);
  b = await tenant(db.pool);
  for (const who of [a, b]) {
    await db.pool.query("INSERT INTO ops.logs (event_type, message, organization_id, user_id) SELECT code, 'a line of ' || $2::text, $1::uuid, $2::uuid FROM ops.log_event_types LIMIT 1", [who.orgId, who.userId]);
  }
  const vec = `[${Array.from({ length: 1536 }, (_, i) => ((i % 7) - 3) / 10).join(',')}]`;
  for (const [kind, id] of Object.entries(templates)) {
    await db.pool.query(
      `INSERT INTO app.question_templates (id, code, focus, depth, template, enabled, deleted_at)
       VALUES ($1, $2, (enum_range(NULL::app.interview_focus))[1], (enum_range(NULL::app.interview_depth))[1], 'Q {topic}?', $3, CASE WHEN $4::boolean THEN now() END)`,
      [id, `scope_${kind}_${process.pid}`, kind !== 'disabled', kind === 'deleted'],
    );
    await db.pool.query(`INSERT INTO app.rag_embeddings (organization_id, source_type, source_id, embedding) VALUES (NULL, 'question_template', $1, $2::extensions.vector)`, [id, vec]);
  }
});
afterAll(async () => {
  await app?.end();
  await db?.drop();
});

const read = <T extends pg.QueryResultRow>(orgId: string, userId: string | null, sql: string, params: unknown[] = []) =>
  withContext(app, asUser(orgId || randomUUID(), userId ?? randomUUID()), async (tx) => (await tx.query<T>(sql, params)).rows);

describe('a user id alone opens nothing of another tenant (issue 16 #2)', () => {
  it("another tenant's user id with no organization: no profile, no log line", async () => {
    expect(await read('', b.userId, 'SELECT email FROM app.users WHERE id = $1', [b.userId])).toEqual([]);
    expect(await read('', b.userId, 'SELECT message FROM ops.logs WHERE user_id = $1', [b.userId])).toEqual([]);
  });

  it("another tenant's user id with my organization (not their membership): no profile, no log line", async () => {
    expect(await read(a.orgId, b.userId, 'SELECT email FROM app.users WHERE id = $1', [b.userId])).toEqual([]);
    expect(await read(a.orgId, b.userId, 'SELECT message FROM ops.logs WHERE user_id = $1', [b.userId])).toEqual([]);
  });

  it('my own organization and user: my profile and my log line', async () => {
    expect(await read(a.orgId, a.userId, 'SELECT id FROM app.users')).toEqual([{ id: a.userId }]);
    expect((await read<{ message: string }>(a.orgId, a.userId, 'SELECT message FROM ops.logs')).map((r) => r.message)).toEqual([`a line of ${a.userId}`]);
  });
});

describe('template embeddings follow the templates (issue 16 #9)', () => {
  const visible = (orgId: string, userId: string | null) =>
    read<{ source_id: string }>(orgId, userId, "SELECT source_id FROM app.rag_embeddings WHERE source_type = 'question_template' AND source_id = ANY($1::uuid[])", [Object.values(templates)]);

  it('a signed-in member sees the enabled template embedding only, not the disabled or deleted ones', async () => {
    expect((await visible(a.orgId, a.userId)).map((r) => r.source_id)).toEqual([templates.enabled]);
  });

  it('without a signed-in user, what the public catalogue shows (the enabled template, through pgkit_anon), never a disabled or deleted one', async () => {
    const templatesVisible = await read<{ id: string }>('', null, 'SELECT id FROM app.question_templates WHERE id = ANY($1::uuid[])', [Object.values(templates)]);
    expect(templatesVisible.map((r) => r.id)).toEqual([templates.enabled]);
    expect((await visible('', null)).map((r) => r.source_id)).toEqual([templates.enabled]);
    expect((await visible(a.orgId, null)).map((r) => r.source_id)).toEqual([templates.enabled]);
  });
});

describe("a colleague's chat-session embeddings (issue 16 #4)", () => {
  it('a member of the same organization cannot read, change or delete another member\'s session embeddings; the owner can', async () => {
    const colleague = randomUUID();
    await db.pool.query('INSERT INTO app.users (id, email) VALUES ($1, $2)', [colleague, `colleague-${process.pid}@example.com`]);
    await db.pool.query("INSERT INTO app.memberships (organization_id, user_id, role) VALUES ($1, $2, 'member')", [a.orgId, colleague]);
    const session = randomUUID();
    await db.pool.query("INSERT INTO app.chat_sessions (id, organization_id, user_id) VALUES ($1, $2, $3)", [session, a.orgId, a.userId]);
    const vec = `[${Array.from({ length: 1536 }, (_, i) => ((i % 5) - 2) / 10).join(',')}]`;
    await db.pool.query("INSERT INTO app.rag_embeddings (organization_id, source_type, source_id, embedding) VALUES ($1, 'chat_session', $2, $3::extensions.vector)", [a.orgId, session, vec]);
    const q = "SELECT source_id FROM app.rag_embeddings WHERE source_type = 'chat_session' AND source_id = $1";
    expect(await read(a.orgId, colleague, q, [session])).toEqual([]);
    const changed = await withContext(app, asUser(a.orgId, colleague), async (tx) => [
      (await tx.query("UPDATE app.rag_embeddings SET token_count = 1 WHERE source_id = $1", [session])).rowCount,
      (await tx.query('DELETE FROM app.rag_embeddings WHERE source_id = $1', [session])).rowCount,
    ]);
    expect(changed).toEqual([0, 0]);
    expect(await read(a.orgId, a.userId, q, [session])).toEqual([{ source_id: session }]);
  });
});
