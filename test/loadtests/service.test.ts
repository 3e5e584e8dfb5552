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
import { signToken } from '../../loadtests/service/auth.js';
import { Rng } from '../../loadtests/lib/prng.js';
import { LOADTEST_CHUNK_BASE, LOADTEST_RUN_SPAN } from '../../loadtests/lib/workload.js';

const secret = new TextEncoder().encode('service-test-secret-0123456789abcdef');
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

async function call(method: 'GET' | 'POST' | 'DELETE', url: string, token: string | null, body?: unknown) {
  const r = await app.inject({ method, url, headers: token ? { authorization: `Bearer ${token}` } : {}, ...(body !== undefined ? { payload: body as object } : {}) });
  return { status: r.statusCode, body: r.body ? (JSON.parse(r.body) as Record<string, any>) : null };
}

beforeAll(async () => {
  db = await migratedDatabase();
  process.env.PGKIT_ENC_KEYS = JSON.stringify(encKeys);
  const scale = resolveScale('tiny');
  await seed({ adminUrl: db.superUrl, scale, seed: 'svc-test', reset: false, embeddings: true, dataFile: null, recallQueries: 0, now: NOW, log: () => {} });
  w = new World(scale, 'svc-test', NOW);
  ({ app } = buildService({ databaseUrl: db.appPooledUrl, jwtSecret: secret, encKeys, poolSize: 4 }));
  tokA = await signToken(secret, { userId: userOf(orgA()).id, orgId: orgA().id });
  tokB = await signToken(secret, { userId: userOf(orgB()).id, orgId: orgB().id });
  worker = await signToken(secret, { userId: userOf(orgA()).id, orgId: orgA().id, worker: true });
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
    const done = await call('POST', `/v1/queue/${item.id}/complete`, worker, { worker: 'w-1' });
    expect(done.status).toBe(200);
    const again = await call('POST', `/v1/queue/${item.id}/complete`, worker, { worker: 'w-1' });
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
    expect(d).toEqual({ status: 200, body: { deleted: 2 } });
    expect(await count(base, base + LOADTEST_RUN_SPAN)).toBe(2); // B's rows: B's own clean-up removes them
    expect(await count(base + LOADTEST_RUN_SPAN, base + 2 * LOADTEST_RUN_SPAN)).toBe(2);
    expect((await call('DELETE', `/v1/embeddings?fromChunk=${base}&toChunk=${base + LOADTEST_RUN_SPAN}`, tokB)).body).toEqual({ deleted: 2 });
    // Seeded rows (small chunk indexes) are out of reach.
    const low = await call('DELETE', '/v1/embeddings?fromChunk=0&toChunk=1000', tokA);
    expect(low.status).toBe(400);
    expect(low.body!.error.message).toMatch(/fromChunk must be a whole number from 900000/);
  });
});

describe('errors', () => {
  it('401 without or with a bad token', async () => {
    expect((await call('GET', '/v1/projects', null)).status).toBe(401);
    const bad = await signToken(new TextEncoder().encode('another-secret-another-secret-0000'), { userId: randomUUID(), orgId: randomUUID() });
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
    expect(b.body!.error.detail.constraint).toBe('highlights_offsets_check');
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
    expect(r.body!.error.detail.constraint).toBe('chat_messages_session_open_check');
  });

  it('429 when the database rate limit refuses a message', async () => {
    const s = openSession(orgA().users[0]);
    const first = await call('POST', `/v1/chat-sessions/${s.id}/messages`, tokA, { content: 'one' });
    const second = await call('POST', `/v1/chat-sessions/${s.id}/messages`, tokA, { content: 'two' });
    expect([first.status, second.status]).toContain(429);
  });

  it('503 with a reason when the database is unreachable', async () => {
    const { app: down } = buildService({ databaseUrl: 'postgresql://nobody:x@127.0.0.1:1/none', jwtSecret: secret, encKeys, poolSize: 1 });
    const h = await down.inject({ method: 'GET', url: '/health' });
    expect(h.statusCode).toBe(503);
    const r = await down.inject({ method: 'GET', url: '/v1/projects', headers: { authorization: `Bearer ${tokA}` } });
    expect(r.statusCode).toBe(503);
    expect(JSON.parse(r.body).error.message).toMatch(/unavailable/);
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
