// The workload service against real PostgreSQL through PgBouncer as the application role: every operation,
// every error status, and cross-tenant requests that must see nothing.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { migratedDatabase, type TestDb } from '../support/db.js';
import { seed } from '../../loadtests/seed/index.js';
import { resolveScale } from '../../loadtests/seed/scale.js';
import { World } from '../../loadtests/seed/world.js';
import { buildService } from '../../loadtests/service/app.js';
import { signToken, signWorkerToken, ISSUER, AUDIENCE } from '../../loadtests/service/auth.js';
import { withContext } from '../../src/db/context.js';
import { contextKeysOf } from '../../src/local/secrets.js';
import { stackSecrets } from '../../src/local/stack.js';
import { testStack } from '../support/stack.js';
import { asUser } from '../support/context.js';
import { expectContract } from './service-contract.js';
import { SignJWT } from 'jose';
import { Writable } from 'node:stream';
import pg from 'pg';
import { Rng } from '../../loadtests/lib/prng.js';
import { LOADTEST_CHUNK_BASE, LOADTEST_RUN_SPAN } from '../../loadtests/lib/workload.js';

// The test stack's context keys, registered in every migrated test database: the database verifies them too.
const keys = contextKeysOf(stackSecrets(testStack));
const secret = keys.find((k) => k.purpose === 'user')!;
const workerKey = keys.find((k) => k.purpose === 'worker')!;
const encKeys = { 'svc-test-1': randomBytes(32).toString('base64') };
const NOW = Date.UTC(2026, 10, 20, 12);
let db: TestDb;
let app: FastifyInstance;
let w: World;
let tokA: string; // a user of organization A (the largest)
let tokB: string; // a user of organization B
let worker: string;

const orgA = () => w.orgs[0];
const orgB = () => w.orgs[1];
const userOf = (o: { users: number[] }) => w.users[o.users[0]];
const episodeOf = (o: { projects: number[] }) => {
  const p = o.projects.map((i) => w.projects[i]).find((x) => x.episodes.some((e) => w.episodes[e].status === 'published'))!;
  return { project: p, episode: w.episodes[p.episodes.find((e) => w.episodes[e].status === 'published')!] };
};
const openSession = (u: number) => w.sessions.find((s) => s.user === u && s.open)!;
const vec = (seed: string, topic: number) => Array.from(w.space.sample(new Rng(seed), topic));

async function call(method: 'GET' | 'POST' | 'DELETE', url: string, token: string | null, body?: unknown, headers: Record<string, string> = {}, on = app) {
  const r = await on.inject({ method, url, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers }, ...(body !== undefined ? { payload: body as object } : {}) });
  return { status: r.statusCode, headers: r.headers as Record<string, unknown>, text: r.body, body: r.body ? (JSON.parse(r.body) as Record<string, any>) : null };
}

beforeAll(async () => {
  db = await migratedDatabase();
  process.env.PGKIT_ENC_KEYS = JSON.stringify(encKeys);
  const scale = resolveScale('tiny');
  await seed({ adminUrl: db.superUrl, scale, seed: 'svc-test', reset: false, embeddings: true, dataFile: null, recallQueries: 0, now: NOW, log: () => {}, contextKeys: keys });
  w = new World(scale, 'svc-test', NOW);
  ({ app } = buildService({ databaseUrl: db.appPooledUrl, workerDatabaseUrl: db.workerPooledUrl, jwtKeys: keys, encKeys, poolSize: 4 }));
  tokA = await signToken(secret, { userId: userOf(orgA()).id, orgId: orgA().id });
  tokB = await signToken(secret, { userId: userOf(orgB()).id, orgId: orgB().id });
  worker = await signWorkerToken(workerKey);
});

afterAll(async () => {
  await app?.close();
  delete process.env.PGKIT_ENC_KEYS;
  await db?.drop();
});

describe('operations', () => {
  it('health reports the database', async () => {
    const r = await call('GET', '/health', null);
    expect(r.status).toBe(200);
    expect(r.body!.database).toBe('ok');
  });

  it('lists projects with a keyset cursor, only of the caller organization', async () => {
    const first = await call('GET', '/v1/projects?limit=1', tokA);
    expect(first.status).toBe(200);
    expect(first.body!.items).toHaveLength(1);
    const all = orgA().projects.map((p) => w.projects[p].id).sort();
    const seen: string[] = [first.body!.items[0].id];
    let next = first.body!.next;
    while (next) {
      const r = await call('GET', `/v1/projects?limit=1&cursor=${next}`, tokA);
      seen.push(...r.body!.items.map((x: { id: string }) => x.id));
      next = r.body!.next;
    }
    expect(seen.sort()).toEqual(all);
  });

  it('lists a project episodes newest first and reads one with its blocks in order', async () => {
    const { project, episode } = episodeOf(orgA());
    const list = await call('GET', `/v1/projects/${project.id}/episodes?limit=100`, tokA);
    expect(list.status).toBe(200);
    const dates = list.body!.items.map((e: { published_at: string }) => e.published_at);
    expect(dates).toEqual([...dates].sort().reverse());
    const read = await call('GET', `/v1/episodes/${episode.id}`, tokA);
    expect(read.status).toBe(200);
    expect(read.body!.blocks.map((b: { position: number }) => b.position)).toEqual([...Array(episode.blockCount).keys()]);
  });

  it('creates a highlight (201) and the episode counter follows', async () => {
    const { episode } = episodeOf(orgA());
    const before = (await call('GET', `/v1/episodes/${episode.id}`, tokA)).body!.highlight_count as number;
    const r = await call('POST', `/v1/episodes/${episode.id}/highlights`, tokA, { blockId: w.blockIds[episode.blockStart], quote: 'a quote', startOffset: 0, endOffset: 7 });
    expect(r.status).toBe(201);
    await db.pool.query('SELECT app_private.fold_episode_counter_deltas()');
    const after = await db.pool.query('SELECT highlight_count FROM app.episodes WHERE id = $1', [episode.id]);
    expect(after.rows[0].highlight_count).toBe(before + 1);
  });

  it('posts a chat message, stored encrypted, and a retry with the same key is a replay (200)', async () => {
    const s = openSession(orgA().users[0]);
    const key = randomUUID();
    const a = await call('POST', `/v1/chat-sessions/${s.id}/messages`, tokA, { content: 'hello there', clientMessageId: key });
    expect(a.status).toBe(201);
    const b = await call('POST', `/v1/chat-sessions/${s.id}/messages`, tokA, { content: 'hello there', clientMessageId: key });
    expect(b.status).toBe(200);
    expect(b.body!.id).toBe(a.body!.id);
    expect(b.body!.replayed).toBe(true);
    const raw = await db.pool.query('SELECT content, content_enc IS NOT NULL AS enc FROM app.chat_messages WHERE id = $1', [a.body!.id]);
    expect(raw.rows[0]).toEqual({ content: null, enc: true });
  });

  it('records token usage (201) and the daily roll-up counts it', async () => {
    const r = await call('POST', '/v1/token-usage', tokB, { operation: 'chat', model: 'gpt-4o-mini', inputTokens: 100, outputTokens: 50, costGbp: 0.001 });
    expect(r.status).toBe(201);
    expect(r.body!.total_tokens).toBe(150);
    const d = await db.pool.query(`SELECT call_count FROM app.token_usage_daily WHERE organization_id = $1 AND usage_date = (now() AT TIME ZONE 'UTC')::date`, [orgB().id]);
    expect(d.rows[0].call_count).toBeGreaterThanOrEqual(1);
  });

  it('claims a due queue item and completes it; a second completion is 409', async () => {
    const c = await call('POST', '/v1/queue/claim', worker, { worker: 'w-1' });
    expect(c.status).toBe(200);
    const item = c.body!.items[0];
    expect(item.lease_token).toMatch(/^[0-9a-f-]{36}$/);
    // Another worker's guess at the lease is refused (issue 21: any worker token could complete any item).
    const guess = await call('POST', `/v1/queue/${item.id}/complete`, worker, { leaseToken: randomUUID() });
    expect(guess.status).toBe(409);
    const done = await call('POST', `/v1/queue/${item.id}/complete`, worker, { leaseToken: item.lease_token });
    expect(done.status).toBe(200);
    const again = await call('POST', `/v1/queue/${item.id}/complete`, worker, { leaseToken: item.lease_token });
    expect(again.status).toBe(409);
    expect(again.body!.error.code).toBe('conflict');
  });

  it('vector search returns the top 5 of the caller organization, nearest first', async () => {
    const r = await call('POST', '/v1/search', tokA, { vector: vec('q1', orgA().topics[0]) });
    expect(r.status).toBe(200);
    expect(r.body!.items).toHaveLength(5);
    const d = r.body!.items.map((x: { distance: number }) => x.distance);
    expect(d).toEqual([...d].sort((x, y) => x - y));
    const orgs = await db.pool.query('SELECT DISTINCT organization_id FROM app.rag_embeddings WHERE id = ANY($1)', [r.body!.items.map((x: { id: string }) => x.id)]);
    expect(orgs.rows.map((x) => x.organization_id)).toEqual([orgA().id]);
  });

  it('looks templates up by focus and depth', async () => {
    const r = await call('GET', '/v1/templates?focus=market&depth=deep', tokA);
    expect(r.status).toBe(200);
    expect(r.body!.items).toHaveLength(10);
    expect(new Set(r.body!.items.map((t: { focus: string; depth: string }) => `${t.focus}/${t.depth}`))).toEqual(new Set(['market/deep']));
  });

  it('looks a session embedding up, and bulk-inserts 100 embeddings of a block', async () => {
    const withEmb = await db.pool.query(`SELECT e.source_id, s.user_id FROM app.rag_embeddings e JOIN app.chat_sessions s ON s.id = e.source_id
      WHERE e.source_type = 'chat_session' AND s.organization_id = $1 LIMIT 1`, [orgA().id]);
    const tok = await signToken(secret, { userId: withEmb.rows[0].user_id, orgId: orgA().id });
    const r = await call('GET', `/v1/chat-sessions/${withEmb.rows[0].source_id}/embedding`, tok);
    expect(r.status).toBe(200);
    expect(r.body!.items[0].embedding).toHaveLength(1536);
    const { episode } = episodeOf(orgA());
    const vectors = Array.from({ length: 100 }, (_, i) => vec(`bulk${i}`, orgA().topics[0]));
    const b = await call('POST', `/v1/blocks/${w.blockIds[episode.blockStart]}/embeddings`, tokA, { vectors, firstChunk: 1 });
    expect(b.status).toBe(201);
    expect(b.body!.written).toBe(100);
  });

  it("a k6 run's clean-up deletes its chunk slot in the caller's organization only, and never below the load-test range", async () => {
    const base = LOADTEST_CHUNK_BASE + 7 * LOADTEST_RUN_SPAN;
    const blockOf = (o: { projects: number[] }) => w.blockIds[episodeOf(o).episode.blockStart];
    const write = async (tok: string, o: typeof w.orgs[number], first: number) =>
      expect((await call('POST', `/v1/blocks/${blockOf(o)}/embeddings`, tok, { vectors: [vec(`c${first}`, o.topics[0]), vec(`d${first}`, o.topics[0])], firstChunk: first })).status).toBe(201);
    await write(tokA, orgA(), base); // this run, organization A
    await write(tokB, orgB(), base); // this run, organization B
    await write(tokA, orgA(), base + LOADTEST_RUN_SPAN); // another run's slot
    const count = async (from: number, to: number) => Number((await db.pool.query('SELECT count(*) AS n FROM app.rag_embeddings WHERE chunk_index >= $1 AND chunk_index < $2', [from, to])).rows[0].n);
    const d = await call('DELETE', `/v1/embeddings?fromChunk=${base}&toChunk=${base + LOADTEST_RUN_SPAN}`, tokA);
    expect(d).toMatchObject({ status: 200, body: { deleted: 2 } });
    expect(await count(base, base + LOADTEST_RUN_SPAN)).toBe(2); // B's rows: B's own clean-up removes them
    expect(await count(base + LOADTEST_RUN_SPAN, base + 2 * LOADTEST_RUN_SPAN)).toBe(2);
    expect((await call('DELETE', `/v1/embeddings?fromChunk=${base}&toChunk=${base + LOADTEST_RUN_SPAN}`, tokB)).body).toEqual({ deleted: 2 });
    // Seeded rows (small chunk indexes) are out of reach.
    const low = await call('DELETE', '/v1/embeddings?fromChunk=0&toChunk=1000', tokA);
    expect(low.status).toBe(400);
    expect(low.body!.error.message).toMatch(/fromChunk must be 900000 or more/);
  });
});

describe('errors', () => {
  it('401 without or with a bad token', async () => {
    expect((await call('GET', '/v1/projects', null)).status).toBe(401);
    const bad = await signToken({ ...secret, secret: randomBytes(32) }, { userId: randomUUID(), orgId: randomUUID() });
    const r = await call('GET', '/v1/projects', bad);
    expect(r.status).toBe(401);
    expect(r.body!.error.message).toMatch(/invalid token/);
  });

  it('403 when a user token claims queue items', async () => {
    const r = await call('POST', '/v1/queue/claim', tokA, { worker: 'w' });
    expect(r.status).toBe(403);
  });

  it('400 with what was wrong: malformed id, broken CHECK, bad vector', async () => {
    const a = await call('GET', '/v1/episodes/not-a-uuid', tokA);
    expect(a.status).toBe(400);
    expect(a.body!.error.message).toMatch(/uuid/);
    const { episode } = episodeOf(orgA());
    const b = await call('POST', `/v1/episodes/${episode.id}/highlights`, tokA, { quote: 'x', startOffset: 9, endOffset: 3 });
    expect(b.status).toBe(400);
    expect(b.body!.error.message).toMatch(/endOffset must be greater than startOffset/);
    const c = await call('POST', '/v1/search', tokA, { vector: [1, 2, 3] });
    expect(c.status).toBe(400);
  });

  it('404 for a missing row', async () => {
    const r = await call('GET', `/v1/episodes/${randomUUID()}`, tokA);
    expect(r.status).toBe(404);
    expect(r.body!.error.code).toBe('not_found');
  });

  it('409 when posting into a completed session', async () => {
    const s = w.sessions.find((x) => !x.open && x.org === 0)!;
    const tok = await signToken(secret, { userId: w.users[s.user].id, orgId: orgA().id });
    const r = await call('POST', `/v1/chat-sessions/${s.id}/messages`, tok, { content: 'late' });
    expect(r.status).toBe(409);
    expect(r.body!.error.message).toMatch(/session is completed/);
  });

  it('429 when the database rate limit refuses a message', async () => {
    const s = openSession(orgA().users[0]);
    const first = await call('POST', `/v1/chat-sessions/${s.id}/messages`, tokA, { content: 'one' });
    const second = await call('POST', `/v1/chat-sessions/${s.id}/messages`, tokA, { content: 'two' });
    expect([first.status, second.status]).toContain(429);
  });

  it('503 with a reason when the database is unreachable', async () => {
    const { app: down } = buildService({ databaseUrl: 'postgresql://nobody:x@127.0.0.1:1/none', workerDatabaseUrl: 'postgresql://nobody:x@127.0.0.1:1/none', jwtKeys: keys, encKeys, poolSize: 1 });
    const h = await down.inject({ method: 'GET', url: '/health' });
    expect(h.statusCode).toBe(503);
    const r = await down.inject({ method: 'GET', url: '/v1/projects', headers: { authorization: `Bearer ${tokA}` } });
    expect(r.statusCode).toBe(503);
    expect(JSON.parse(r.body).error.message).toMatch(/unavailable/);
    expect(JSON.parse(h.body).database).toBe('unreachable');
    // No host, port or driver text in the body (issue 21 #4).
    expect(r.body).not.toMatch(/127\.0\.0\.1|:1\b|ECONNREFUSED|connect/);
    await down.close();
  });
});

describe('cross-tenant requests return nothing', () => {
  it('organization B cannot read, list, search or write into organization A', async () => {
    const { project, episode } = episodeOf(orgA());
    expect((await call('GET', `/v1/episodes/${episode.id}`, tokB)).status).toBe(404);
    expect((await call('GET', `/v1/projects/${project.id}/episodes`, tokB)).status).toBe(404);
    const projects = (await call('GET', '/v1/projects?limit=100', tokB)).body!.items.map((p: { id: string }) => p.id);
    expect(projects).not.toContain(project.id);
    const h = await call('POST', `/v1/episodes/${episode.id}/highlights`, tokB, { quote: 'x', startOffset: 0, endOffset: 1 });
    expect(h.status).toBe(404);
    const s = openSession(orgA().users[0]);
    expect((await call('POST', `/v1/chat-sessions/${s.id}/messages`, tokB, { content: 'intrusion' })).status).toBe(404);
    expect((await call('GET', `/v1/chat-sessions/${s.id}/embedding`, tokB)).status).toBe(404);
    const blk = await call('POST', `/v1/blocks/${w.blockIds[episode.blockStart]}/embeddings`, tokB, { vectors: [vec('x', 0)] });
    expect(blk.status).toBe(404);
    const search = await call('POST', '/v1/search', tokB, { vector: vec('q1', orgA().topics[0]) });
    const ids = search.body!.items.map((x: { id: string }) => x.id);
    const owners = await db.pool.query('SELECT DISTINCT organization_id FROM app.rag_embeddings WHERE id = ANY($1)', [ids]);
    expect(owners.rows.every((r) => r.organization_id === orgB().id)).toBe(true);
  });
});

// Issue 21: each defect it lists, with the answer it must get now.
describe('issue 21: bad input is a 4xx in the contract, never a 500', () => {
  const NUL = String.fromCharCode(0);
  const cursorOf = (k: unknown, id: string) => Buffer.from(JSON.stringify([k, id])).toString('base64url');

  it('a NUL in any text field or cursor is a 400 (was a 500 with the raw 22021 message)', async () => {
    const { project, episode } = episodeOf(orgA());
    const s = openSession(orgB().users[0]);
    const cases: Array<[string, string, string, unknown]> = [
      ['quote', 'POST', `/v1/episodes/${episode.id}/highlights`, { quote: `a${NUL}b`, startOffset: 0, endOffset: 1 }],
      ['note', 'POST', `/v1/episodes/${episode.id}/highlights`, { quote: 'q', note: `n${NUL}`, startOffset: 0, endOffset: 1 }],
      ['content', 'POST', `/v1/chat-sessions/${s.id}/messages`, { content: `${NUL}` }],
      ['model', 'POST', '/v1/token-usage', { operation: 'chat', model: `m${NUL}`, inputTokens: 1, outputTokens: 1, costGbp: 0 }],
      ['projects cursor', 'GET', `/v1/projects?cursor=${cursorOf(`x${NUL}`, randomUUID())}`, undefined],
      ['episodes cursor', 'GET', `/v1/projects/${project.id}/episodes?cursor=${cursorOf(`2026-01-01${NUL}`, randomUUID())}`, undefined],
    ];
    for (const [what, method, url, body] of cases) {
      const r = await call(method as 'GET' | 'POST', url, what === 'content' ? tokB : tokA, body);
      expect(r.status, what).toBe(400);
      expectContract(r, what);
    }
    const w1 = await call('POST', '/v1/queue/claim', worker, { worker: `w${NUL}` });
    expect(w1.status).toBe(400);
    expectContract(w1, 'worker name');
  });

  it('vector values beyond float32 and all-zero vectors are 400 (were a 500 from pgvector, and a null distance)', async () => {
    const base = vec('f32', orgA().topics[0]);
    const { episode } = episodeOf(orgA());
    const block = w.blockIds[episode.blockStart];
    for (const bad of [1e39, -3.5e38]) {
      const v = [...base];
      v[7] = bad;
      const r = await call('POST', '/v1/search', tokA, { vector: v });
      expect(r.status, String(bad)).toBe(400);
      expectContract(r);
      const b = await call('POST', `/v1/blocks/${block}/embeddings`, tokA, { vectors: [v], firstChunk: 9000 });
      expect(b.status, String(bad)).toBe(400);
    }
    const zero = new Array(1536).fill(0);
    const z = await call('POST', '/v1/search', tokA, { vector: zero });
    expect(z.status).toBe(400);
    expect(z.body!.error.message).toMatch(/all zeros/);
    // Tiny values that round to float32 zero are zeros too.
    expect((await call('POST', `/v1/blocks/${block}/embeddings`, tokA, { vectors: [new Array(1536).fill(1e-46)], firstChunk: 9001 })).status).toBe(400);
    const stored = await db.pool.query("SELECT count(*)::int AS n FROM app.rag_embeddings WHERE source_id = $1 AND chunk_index BETWEEN 9000 AND 9999", [block]);
    expect(stored.rows[0].n).toBe(0);
  });

  it('an error body has a stable code, a client message and the request id, and no internals; the log has the details', async () => {
    const lines: string[] = [];
    const stream = new Writable({ write(chunk, _enc, cb) { lines.push(chunk.toString()); cb(); } });
    const { app: logged } = buildService({ databaseUrl: db.appPooledUrl, workerDatabaseUrl: db.workerPooledUrl, jwtKeys: keys, encKeys, poolSize: 1, logger: { level: 'info', stream } });
    try {
      // A foreign key the schema cannot see: the project does not exist (23503 on token_usage_project_id_fkey).
      const r = await call('POST', '/v1/token-usage', tokA, { operation: 'chat', projectId: randomUUID(), model: 'm', inputTokens: 1, outputTokens: 1, costGbp: 0 }, {}, logged);
      expect(r.status).toBe(404);
      const e = expectContract(r);
      expect(r.text).not.toMatch(/token_usage|fkey|23503/);
      const line = lines.find((l) => l.includes(e.requestId) && l.includes('23503'));
      expect(line, lines.join('')).toBeDefined();
      expect(line).toMatch(/token_usage_project_id_(tenant_)?fkey/);
    } finally {
      await logged.close();
    }
  });

  it('unknown routes, long path segments (414) and text/plain bodies (415) answer in the contract, without echoing the URL', async () => {
    const nf = await call('GET', '/v1/nothing-here/secret-looking-path', tokA);
    expect(nf.status).toBe(404);
    expect(nf.text).not.toMatch(/secret-looking-path/);
    expectContract(nf);
    const long = 'x'.repeat(500);
    const l = await call('GET', `/v1/episodes/${long}`, tokA);
    expect(l.status).toBe(414);
    expect(l.text).not.toMatch(/xxxxxxxx/);
    expectContract(l);
    const t = await app.inject({ method: 'POST', url: '/v1/token-usage', headers: { authorization: `Bearer ${tokA}`, 'content-type': 'text/plain' }, payload: 'hello' });
    expect(t.statusCode).toBe(415);
    expectContract({ status: t.statusCode, headers: t.headers, text: t.body });
    const a = await call('GET', '/v1/projects', null);
    expectContract(a);
  });

  it('a soft-deleted user loses access at once: 401 through the service, nothing through the database context', async () => {
    const u = w.users[orgA().users[1]];
    const tok = await signToken(secret, { userId: u.id, orgId: orgA().id });
    expect((await call('GET', '/v1/projects', tok)).status).toBe(200);
    await db.pool.query('UPDATE app.users SET deleted_at = now() WHERE id = $1', [u.id]);
    try {
      const r = await call('GET', '/v1/projects', tok);
      expect(r.status).toBe(401);
      expect(r.body!.error.message).toMatch(/deleted or no longer a member/);
      const wr = await call('POST', '/v1/token-usage', tok, { operation: 'chat', model: 'm', inputTokens: 1, outputTokens: 1, costGbp: 0 });
      expect(wr.status).toBe(401);
      // The database itself refuses the context, whatever a client does (app.current_org_id()).
      const appPool = new pg.Pool({ connectionString: db.appPooledUrl, max: 1 });
      try {
        const seen = await withContext(appPool, asUser(orgA().id, u.id), async (tx) =>
          (await tx.query('SELECT app.current_org_id() AS org, (SELECT count(*)::int FROM app.projects) AS projects')).rows[0],
        );
        expect(seen).toEqual({ org: null, projects: 0 });
      } finally {
        await appPool.end();
      }
    } finally {
      await db.pool.query('UPDATE app.users SET deleted_at = NULL WHERE id = $1', [u.id]);
    }
  });

  it('token rules: exp required, at most 7 days of lifetime, iat not in the future; the scheme is case-insensitive', async () => {
    const u = userOf(orgA());
    const now = Math.floor(Date.now() / 1000);
    const jwt = (claims: { iat?: number; exp?: number }) => {
      const j = new SignJWT({ org: orgA().id }).setProtectedHeader({ alg: 'HS256', kid: secret.kid }).setSubject(u.id).setIssuer(ISSUER).setAudience(AUDIENCE);
      if (claims.iat !== undefined) j.setIssuedAt(claims.iat);
      if (claims.exp !== undefined) j.setExpirationTime(claims.exp);
      return j.sign(secret.secret);
    };
    const cases: Array<[string, { iat?: number; exp?: number }]> = [
      ['no exp', { iat: now }],
      ['exp in the year 3000', { iat: now, exp: Date.UTC(3000, 0, 1) / 1000 }],
      ['iat a year ahead', { iat: now + 365 * 86400, exp: now + 365 * 86400 + 3600 }],
      ['8 days of lifetime', { iat: now, exp: now + 8 * 86400 }],
      ['no iat, exp 8 days ahead', { exp: now + 8 * 86400 }],
    ];
    for (const [what, claims] of cases) {
      const r = await call('GET', '/v1/projects', await jwt(claims));
      expect(r.status, what).toBe(401);
      expectContract(r, what);
    }
    expect((await call('GET', '/v1/projects', await jwt({ iat: now, exp: now + 3600 }))).status).toBe(200);
    const lower = await app.inject({ method: 'GET', url: '/v1/projects', headers: { authorization: `bearer ${tokA}` } });
    expect(lower.statusCode).toBe(200);
  });

  it('reusing an idempotency key with other content is 409; the same content is a replay', async () => {
    const s = openSession(orgB().users[0]);
    const key = randomUUID();
    const a = await call('POST', `/v1/chat-sessions/${s.id}/messages`, tokB, { content: 'first words' }, { 'idempotency-key': key });
    expect(a.status).toBe(201);
    const same = await call('POST', `/v1/chat-sessions/${s.id}/messages`, tokB, { content: 'first words' }, { 'idempotency-key': key });
    expect(same.status).toBe(200);
    expect(same.body!.replayed).toBe(true);
    const other = await call('POST', `/v1/chat-sessions/${s.id}/messages`, tokB, { content: 'other words' }, { 'idempotency-key': key });
    expect(other.status).toBe(409);
    expectContract(other);
    const stored = await db.pool.query('SELECT count(*)::int AS n FROM app.chat_messages WHERE client_message_id = $1', [key]);
    expect(stored.rows[0].n).toBe(1);
  });

  it('lengths count code points like the database: 3,000 emoji fit a 4,000-character quote, 4,001 do not', async () => {
    const { episode } = episodeOf(orgA());
    const ok = await call('POST', `/v1/episodes/${episode.id}/highlights`, tokA, { quote: '😀'.repeat(3000), startOffset: 0, endOffset: 1 });
    expect(ok.status).toBe(201);
    const edge = await call('POST', `/v1/episodes/${episode.id}/highlights`, tokA, { quote: '😀'.repeat(4000), startOffset: 0, endOffset: 1 });
    expect(edge.status).toBe(201);
    const over = await call('POST', `/v1/episodes/${episode.id}/highlights`, tokA, { quote: '😀'.repeat(4001), startOffset: 0, endOffset: 1 });
    expect(over.status).toBe(400);
    expectContract(over);
  });

  it('integers are JSON integers ("5", "", "0x10", "1e1" are 400); optional ids accept null alike', async () => {
    const { episode } = episodeOf(orgA());
    for (const v of ['5', '', '0x10', '1e1', 1.5, true]) {
      const r = await call('POST', `/v1/episodes/${episode.id}/highlights`, tokA, { quote: 'q', startOffset: v, endOffset: 20 });
      expect(r.status, JSON.stringify(v)).toBe(400);
      expectContract(r);
      const t = await call('POST', '/v1/token-usage', tokA, { operation: 'chat', model: 'm', inputTokens: v, outputTokens: 1, costGbp: 0 });
      expect(t.status, JSON.stringify(v)).toBe(400);
    }
    for (const v of ['', '0x10', '1e1', '0', '101', '1&limit=2']) {
      const r = await call('GET', `/v1/projects?limit=${v}`, tokA);
      expect(r.status, v).toBe(400);
      expectContract(r, v);
    }
    expect((await call('POST', `/v1/episodes/${episode.id}/highlights`, tokA, { blockId: null, quote: 'q', startOffset: 0, endOffset: 1 })).status).toBe(201);
    expect((await call('POST', '/v1/token-usage', tokA, { operation: 'chat', projectId: null, model: 'm', inputTokens: 1, outputTokens: 1, costGbp: 0 })).status).toBe(201);
  });

  it('a 429 carries Retry-After', async () => {
    const s = openSession(orgA().users[0]);
    const rs = [];
    for (let i = 0; i < 3; i++) rs.push(await call('POST', `/v1/chat-sessions/${s.id}/messages`, tokA, { content: `burst ${i}` }));
    const limited = rs.find((r) => r.status === 429)!;
    expect(limited).toBeDefined();
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expectContract(limited);
  });

  it("another organization's project is 404 with a cursor as without", async () => {
    const { project } = episodeOf(orgA());
    const cursor = cursorOf(new Date().toISOString(), randomUUID());
    expect((await call('GET', `/v1/projects/${project.id}/episodes`, tokB)).status).toBe(404);
    const r = await call('GET', `/v1/projects/${project.id}/episodes?cursor=${cursor}`, tokB);
    expect(r.status).toBe(404);
    expectContract(r);
  });

  it("a worker token cannot complete another worker token's item", async () => {
    const other = await signWorkerToken(workerKey);
    const c = await call('POST', '/v1/queue/claim', worker, { worker: 'shared-name' });
    expect(c.status).toBe(200);
    const item = c.body!.items[0];
    // Without the claim's lease token (which only the claimer got), the same worker name completes nothing.
    const stolen = await call('POST', `/v1/queue/${item.id}/complete`, other, { leaseToken: randomUUID() });
    expect(stolen.status).toBe(409);
    expectContract(stolen);
    expect((await call('POST', `/v1/queue/${item.id}/complete`, worker, { leaseToken: item.lease_token })).status).toBe(200);
  });

  it('a highlight cannot point at a block of another episode', async () => {
    const eps = orgA().projects.flatMap((p) => w.projects[p].episodes).map((e) => w.episodes[e]).filter((e) => e.status === 'published' && e.blockCount > 0);
    const [e1, e2] = eps;
    const r = await call('POST', `/v1/episodes/${e1.id}/highlights`, tokA, { blockId: w.blockIds[e2.blockStart], quote: 'q', startOffset: 0, endOffset: 1 });
    expect(r.status).toBe(404);
    expectContract(r);
    const ok = await call('POST', `/v1/episodes/${e1.id}/highlights`, tokA, { blockId: w.blockIds[e1.blockStart], quote: 'q', startOffset: 0, endOffset: 1 });
    expect(ok.status).toBe(201);
  });

  it('the body limit fits the largest real request (100 vectors of the longest numbers) and refuses more (413)', async () => {
    const { episode } = episodeOf(orgA());
    const url = `/v1/blocks/${w.blockIds[episode.blockStart]}/embeddings`;
    // 23 characters: the longest shortest-round-trip form of a float32 value as a JSON number.
    const num = '-1.2345678901234567e-10';
    const row = `[${new Array(1536).fill(num).join(',')}]`;
    const body = `{"vectors":[${new Array(100).fill(row).join(',')}],"firstChunk":20000}`;
    const r = await app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${tokA}`, 'content-type': 'application/json' }, payload: body });
    expect(r.statusCode, r.body).toBe(201);
    // The old limit (8 MiB) let 5 MB through to the handler; now it is refused before parsing.
    const big = `{"vectors":[${new Array(100).fill(row).join(',')}],"firstChunk":20000,"pad":"${'x'.repeat(1_500_000)}"}`;
    const o = await app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${tokA}`, 'content-type': 'application/json' }, payload: big });
    expect(o.statusCode).toBe(413);
    expectContract({ status: o.statusCode, headers: o.headers, text: o.body });
    // Texts: 8,000 escaped astral code points (the largest chat message) fit; the search route takes one vector.
    const s = openSession(orgB().users[1] ?? orgB().users[0]);
    const content = JSON.stringify('😀'.repeat(8000)).replace(/[\ud800-\udfff]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
    expect(content.length).toBeGreaterThan(95_000);
    const m = await app.inject({ method: 'POST', url: `/v1/chat-sessions/${s.id}/messages`, headers: { authorization: `Bearer ${await signToken(secret, { userId: w.users[s.user].id, orgId: orgB().id })}`, 'content-type': 'application/json' }, payload: `{"content":${content}}` });
    expect([201, 429]).toContain(m.statusCode);
    const sr = await app.inject({ method: 'POST', url: '/v1/search', headers: { authorization: `Bearer ${tokA}`, 'content-type': 'application/json' }, payload: `{"vector":${row},"pad":"${'x'.repeat(40_000)}"}` });
    expect(sr.statusCode).toBe(413);
  });

  it('a statement timeout bounds a request stuck behind a lock (503 timeout), and /health is not fooled by a full pool', async () => {
    const { app: slow } = buildService({ databaseUrl: db.appPooledUrl, workerDatabaseUrl: db.workerPooledUrl, jwtKeys: keys, encKeys, poolSize: 2, statementTimeoutMs: 300, healthTimeoutMs: 2000 });
    const locker = await db.pool.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE app.projects IN ACCESS EXCLUSIVE MODE');
      const t0 = Date.now();
      const stuck = await Promise.all([1, 2, 3].map(() => call('GET', '/v1/projects', tokA, undefined, {}, slow)));
      expect(Date.now() - t0).toBeLessThan(5000);
      for (const r of stuck) {
        expect(r.status).toBe(503);
        expect(expectContract(r).code).toBe('timeout');
        expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      }
      // While the pool is busy with stuck requests, /health (its own connection) still says the database is up.
      const busy = [1, 2].map(() => call('GET', '/v1/projects', tokA, undefined, {}, slow));
      const h = await call('GET', '/health', null, undefined, {}, slow);
      expect(h.status).toBe(200);
      expect(h.body!.database).toBe('ok');
      await Promise.all(busy);
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
      await slow.close();
    }
  });
});

describe('issue 21: the request deadline', () => {
  it('a request still waiting on the database at the deadline gets 503 timeout at the deadline, not when the database answers', async () => {
    const { app: short } = buildService({ databaseUrl: db.appPooledUrl, workerDatabaseUrl: db.workerPooledUrl, jwtKeys: keys, encKeys, poolSize: 2, statementTimeoutMs: 5000, requestTimeoutMs: 400 });
    const locker = await db.pool.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE app.projects IN ACCESS EXCLUSIVE MODE');
      const t0 = Date.now();
      const r = await call('GET', '/v1/projects', tokA, undefined, {}, short);
      const took = Date.now() - t0;
      expect(r.status).toBe(503);
      expect(expectContract(r).code).toBe('timeout');
      expect(took).toBeGreaterThanOrEqual(350);
      expect(took).toBeLessThan(2000);
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
      await short.close();
    }
  });
});
