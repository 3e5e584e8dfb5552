// Fuzzing the workload service (issue 21): a generated corpus of hostile requests against every route, on a
// seeded database through PgBouncer. Every answer must be below 500, and every error in the contract
// (service-contract.ts). The corpus is deterministic (seeded PRNG; PGKIT_FUZZ_SEED=<text> draws another one) and
// covers: NUL bytes, numbers beyond float32 and float64-only extremes, wrong JSON types, lengths at and past
// each limit counted in code points (astral characters, combining marks, lone surrogates), malformed ids,
// cursors and query strings, hostile headers and tokens, raw bodies that are not JSON; then, over a real socket,
// oversize and slow bodies, oversize headers, garbage and over-long URLs.
import { randomBytes, randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { migratedDatabase, type TestDb } from '../support/db.js';
import { seed } from '../../loadtests/seed/index.js';
import { resolveScale } from '../../loadtests/seed/scale.js';
import { World } from '../../loadtests/seed/world.js';
import { buildService } from '../../loadtests/service/app.js';
import { signToken, signWorkerToken } from '../../loadtests/service/auth.js';
import { Rng } from '../../loadtests/lib/prng.js';
import { expectContract, type Answer } from './service-contract.js';
import { testContextKeys } from '../support/context.js';

// The test stack's context keys, registered in every migrated test database (the database verifies them too).
const keys = testContextKeys();
const secret = keys.find((k) => k.purpose === 'user')!;
const workerKey = keys.find((k) => k.purpose === 'worker')!;
const encKeys = { 'fuzz-1': randomBytes(32).toString('base64') };
const NOW = Date.UTC(2026, 10, 20, 12);
const SEED = process.env.PGKIT_FUZZ_SEED ?? 'service-fuzz-v1';
const NUL = String.fromCharCode(0);
const DIM = 1536;
let db: TestDb;
let app: FastifyInstance;
let w: World;
let tok: string;
let workerTok: string;

beforeAll(async () => {
  db = await migratedDatabase();
  const scale = resolveScale('tiny');
  await seed({ adminUrl: db.superUrl, scale, seed: 'fuzz', reset: false, embeddings: false, dataFile: null, recallQueries: 0, now: NOW, log: () => {}, contextKeys: keys });
  w = new World(scale, 'fuzz', NOW);
  ({ app } = buildService({ databaseUrl: db.appPooledUrl, workerDatabaseUrl: db.workerPooledUrl, jwtKeys: keys, encKeys, poolSize: 4, requestTimeoutMs: 1000, statementTimeoutMs: 2000 }));
  const org = w.orgs[0];
  tok = await signToken(secret, { userId: w.users[org.users[0]].id, orgId: org.id });
  workerTok = await signWorkerToken(workerKey);
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

/** Values that break a field's rule, one way or another. */
function hostileStrings(max: number): unknown[] {
  return [
    '', ' ', NUL, `a${NUL}b`, `${'x'.repeat(max - 1)}${NUL}`,
    'x'.repeat(max), 'x'.repeat(max + 1),
    '😀'.repeat(max), '😀'.repeat(max + 1), // astral: 2 UTF-16 units, 1 code point, 4 bytes
    'e\u0301'.repeat(Math.ceil(max / 2) + 1), // combining marks: code points, not graphemes
    '\ud800', `a\udfffb`, // lone surrogates
    "'; DROP TABLE app.projects; --", '%00', '\\u0000', '\u202e\u200b', 'ｘ',
  ];
}
const HOSTILE_NUMBERS: unknown[] = [
  0, -1, 1.5, -0, 1e39, -3.5e38, 3.4028235e38, 3.5e38, 1e308, -1e308, 2 ** 31, 2 ** 53 + 1, 1e-46, Number.MIN_VALUE, 10_000_001, 1e6,
];
const WRONG_TYPES: unknown[] = [null, true, false, [], {}, [1], { a: 1 }, '5', '', '0x10', '1e1', ' 5', 'NaN', 'Infinity', '-0'];
const HOSTILE_IDS = ['not-a-uuid', '', `${randomUUID()}${NUL}`, randomUUID().toUpperCase(), `urn:uuid:${randomUUID()}`, `{${randomUUID()}}`, randomUUID().replace(/-/g, ''), '00000000-0000-0000-0000-000000000000'];

interface Route {
  method: 'GET' | 'POST';
  path: () => string;
  body?: () => Record<string, unknown>;
  /** Fields of the body and the values to break them with. */
  fields?: Record<string, unknown[]>;
  query?: Record<string, unknown[]>;
  worker?: boolean;
}

describe('fuzz: no 5xx, every error in the contract', () => {
  it(`a generated corpus of hostile requests against every route (seed ${SEED})`, async () => {
    const rng = new Rng(SEED);
    const org = w.orgs[0];
    const project = w.projects[org.projects[0]];
    const episodes = org.projects.flatMap((p) => w.projects[p].episodes).map((e) => w.episodes[e]);
    const episode = episodes.find((e) => e.status === 'published' && e.blockCount > 0)!;
    const block = w.blockIds[episode.blockStart];
    const session = w.sessions.find((s) => s.user === org.users[0] && s.open)!;
    const ids = () => rng.pick([project.id, episode.id, block, session.id, randomUUID(), ...HOSTILE_IDS]);
    const vec = () => Array.from({ length: DIM }, () => rng.normal() * 0.03);
    const hostileVector = (): unknown => {
      const v = vec() as unknown[];
      switch (rng.int(0, 7)) {
        case 0: v[rng.int(0, DIM - 1)] = rng.pick([...HOSTILE_NUMBERS, ...WRONG_TYPES]); return v;
        case 1: return v.slice(0, DIM - 1);
        case 2: return [...v, 0.1];
        case 3: return new Array(DIM).fill(0);
        case 4: return new Array(DIM).fill(1e-46);
        case 5: return new Array(DIM).fill(3e38); // each value fits float32, their squares do not
        case 6: return rng.pick(WRONG_TYPES);
        default: return v.map((x, i) => (i % 97 === 0 ? rng.pick(HOSTILE_NUMBERS) : x));
      }
    };
    const text = (max: number) => [...hostileStrings(max), ...WRONG_TYPES, ...HOSTILE_NUMBERS.slice(0, 4)];
    const int = [...HOSTILE_NUMBERS, ...WRONG_TYPES];
    const optId = [...HOSTILE_IDS, ...WRONG_TYPES, randomUUID(), null];
    const cursor = () => {
      const k = rng.pick<unknown>([...hostileStrings(200), ...HOSTILE_NUMBERS, ...WRONG_TYPES, new Date().toISOString(), '2026-13-45T99:99:99Z', '9999-12-31T23:59:59Z']);
      const id = rng.pick<unknown>([randomUUID(), ...HOSTILE_IDS, 5, null]);
      return rng.pick([
        Buffer.from(JSON.stringify([k, id])).toString('base64url'),
        Buffer.from(JSON.stringify(rng.pick<unknown>([{}, [k], [k, id, 1], k]))).toString('base64url'),
        '!!not base64!!', NUL, 'x'.repeat(2001), '',
      ]);
    };
    const pageQuery: Record<string, unknown[]> = { limit: ['', '0', '1', '100', '101', '-1', '0x10', '1e1', '5.0', ' 5', NUL, 'x'.repeat(50), '99999999999999999999'], cursor: [] as unknown[] };

    const routes: Route[] = [
      { method: 'GET', path: () => '/v1/projects', query: pageQuery },
      { method: 'GET', path: () => `/v1/projects/${rng.chance(0.5) ? project.id : ids()}/episodes`, query: pageQuery },
      { method: 'GET', path: () => `/v1/episodes/${rng.chance(0.3) ? episode.id : ids()}` },
      {
        method: 'POST',
        path: () => `/v1/episodes/${rng.chance(0.7) ? episode.id : ids()}/highlights`,
        body: () => ({ blockId: block, quote: 'a quote', note: 'a note', startOffset: 0, endOffset: 5 }),
        fields: { blockId: optId, quote: text(4000), note: text(4000), startOffset: int, endOffset: int },
      },
      {
        method: 'POST',
        path: () => `/v1/chat-sessions/${rng.chance(0.7) ? session.id : ids()}/messages`,
        body: () => ({ content: 'hello', clientMessageId: randomUUID() }),
        fields: { content: text(8000), clientMessageId: optId },
      },
      {
        method: 'POST',
        path: () => '/v1/token-usage',
        body: () => ({ operation: 'chat', projectId: project.id, model: 'gpt-4o-mini', inputTokens: 10, outputTokens: 5, costGbp: 0.001 }),
        fields: { operation: ['', 'CHAT', 'chat ', NUL, ...WRONG_TYPES], projectId: optId, model: text(100), inputTokens: int, outputTokens: int, costGbp: [...HOSTILE_NUMBERS, ...WRONG_TYPES, -0.001, 999999.99] },
      },
      { method: 'POST', path: () => '/v1/queue/claim', worker: true, body: () => ({ worker: 'fuzz', limit: 1 }), fields: { worker: text(200), limit: int } },
      { method: 'POST', path: () => `/v1/queue/${ids()}/complete`, worker: true, body: () => ({ leaseToken: '00000000-0000-4000-8000-000000000000' }), fields: { leaseToken: [...HOSTILE_IDS, ...WRONG_TYPES, null], episodeId: optId } },
      { method: 'POST', path: () => '/v1/search', body: () => ({ vector: vec(), k: 5 }), fields: { vector: [], k: int } },
      { method: 'GET', path: () => '/v1/templates', query: { focus: ['', 'market', 'MARKET', NUL, 'x'.repeat(300)], depth: ['', 'deep', 'DEEP', NUL] } },
      { method: 'GET', path: () => `/v1/chat-sessions/${ids()}/embedding` },
      {
        method: 'POST',
        path: () => `/v1/blocks/${rng.chance(0.7) ? block : ids()}/embeddings`,
        body: () => ({ vectors: [vec(), vec()], firstChunk: 50_000 + rng.int(0, 1000) }),
        fields: { vectors: [], firstChunk: int },
      },
    ];

    const failures: string[] = [];
    const statuses = new Map<number, number>();
    let sent = 0;
    const send = async (what: string, opts: InjectOptions) => {
      sent++;
      const r = await app.inject(opts);
      statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1);
      const a: Answer = { status: r.statusCode, headers: r.headers as Record<string, unknown>, text: r.body };
      if (r.statusCode >= 500) failures.push(`${r.statusCode} for ${what}: ${r.body.slice(0, 300)}`);
      else if (r.statusCode >= 400) {
        try {
          expectContract(a, what);
        } catch (e) {
          failures.push(`not in the contract: ${(e as Error).message.slice(0, 400)}`);
        }
      } else if (r.statusCode !== 204) {
        try {
          JSON.parse(r.body);
        } catch {
          failures.push(`${r.statusCode} with a body that is not JSON for ${what}`);
        }
      }
    };
    const auth = (route: Route) => ({ authorization: `Bearer ${route.worker ? workerTok : tok}` });
    const describeValue = (v: unknown) => {
      const s = typeof v === 'string' ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…(${v.length})` : v) : Array.isArray(v) ? `array(${v.length})` : JSON.stringify(v);
      return s?.replace(new RegExp(NUL, 'g'), '\\0');
    };

    // 1. Field mutations: each route's valid body with one to three fields broken (or dropped, or extra ones).
    for (const route of routes) {
      for (let i = 0; i < 45; i++) {
        const headers: Record<string, string> = { ...auth(route) };
        let url = route.path();
        const what: string[] = [`${route.method} ${url.slice(0, 80)}`];
        if (route.query) {
          const qs = new URLSearchParams();
          for (const [k, vals] of Object.entries(route.query)) {
            if (!rng.chance(0.6)) continue;
            const v = k === 'cursor' ? cursor() : rng.pick(vals);
            qs.append(k, String(v));
            if (rng.chance(0.05)) qs.append(k, String(v)); // a repeated parameter arrives as an array
          }
          url += `?${qs}`;
          what.push(`query ${describeValue(qs.toString())}`);
        }
        let payload: unknown;
        if (route.body) {
          const body = route.body();
          const fields = Object.keys(route.fields ?? {});
          for (let n = rng.int(1, 3); n > 0; n--) {
            const f = rng.pick(fields);
            const roll = rng.next();
            if (roll < 0.1) delete body[f];
            else if (f === 'vector') body[f] = hostileVector();
            else if (f === 'vectors') body[f] = rng.chance(0.2) ? rng.pick<unknown>([[], new Array(101).fill(vec()), ...WRONG_TYPES]) : [vec(), hostileVector()];
            else body[f] = rng.pick(route.fields![f]);
            what.push(`${f}=${describeValue(body[f])}`);
          }
          if (rng.chance(0.05)) body.__proto__extra = { constructor: { prototype: {} } };
          payload = rng.chance(0.04) ? rng.pick<unknown>([null, [], 'text', 5, true]) : body;
          if (payload !== body) what.push(`body=${describeValue(payload)}`);
        }
        if (rng.chance(0.05)) {
          headers.authorization = rng.pick([`bearer  ${tok}`, 'Bearer', `Bearer ${tok.slice(0, -3)}`, `Basic ${tok}`, `Bearer ${tok}${NUL}`.replace(NUL, ''), `Bearer ${tok}.x`]);
          what.push(`authorization variant`);
        }
        if (route.body && rng.chance(0.05)) headers['idempotency-key'] = rng.pick(HOSTILE_IDS);
        await send(what.join(' '), {
          method: route.method,
          url,
          headers: payload === undefined ? headers : { ...headers, 'content-type': 'application/json' },
          ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
        });
      }
    }

    // 2. Bodies that are not what they claim: malformed JSON, other media types, prototype poisoning, depth.
    const raw = [
      '{', '{"quote":', '[]', 'null', '"x"', '5', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}',
      `${'['.repeat(5000)}${']'.repeat(5000)}`, `{"quote":"${'a'.repeat(10)}"`, '\ufeff{}', Buffer.from([0xff, 0xfe, 0x7b, 0x7d]), '{"quote":"\\ud800"}',
    ];
    for (const body of raw) {
      for (const ct of ['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16', 'multipart/form-data; boundary=x', '']) {
        const route = rng.pick(routes.filter((r) => r.body));
        const headers: Record<string, string> = { ...auth(route) };
        if (ct) headers['content-type'] = ct;
        await send(`${route.method} ${route.path()} raw ${describeValue(String(body).slice(0, 30))} as ${ct || 'no type'}`, { method: 'POST', url: route.path(), headers, payload: body });
      }
    }

    // 3. Paths: malformed ids, bad percent-encoding, unknown routes, over-long segments, methods with no route.
    for (const seg of ['%00', '%zz', '%', '..', '%F0%9F%98%80', 'x'.repeat(101), 'x'.repeat(5000), `${randomUUID()}%00`, '%2e%2e%2f']) {
      for (const p of ['/v1/episodes/', '/v1/projects/', '/v1/chat-sessions/', '/v1/nowhere/']) {
        await send(`GET ${p}${seg.slice(0, 30)}`, { method: 'GET', url: `${p}${seg}`, headers: { authorization: `Bearer ${tok}` } });
      }
    }
    for (const method of ['PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const) await send(`${method} /v1/projects`, { method, url: '/v1/projects', headers: { authorization: `Bearer ${tok}` } });

    const summary = [...statuses.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}: ${n}`).join(', ');
    console.log(`[fuzz] ${sent} requests (seed ${SEED}): ${summary}`);
    expect(failures, failures.slice(0, 20).join('\n')).toEqual([]);
    expect(sent).toBeGreaterThan(600);
    // The corpus reaches the database too, not only the schema checks.
    expect([...statuses.keys()].some((s) => s >= 200 && s < 300)).toBe(true);
  });
});

/** One raw HTTP exchange over a socket: what was written, and the answer the server sent before closing. */
function rawHttp(port: number, write: (s: import('node:net').Socket) => void | Promise<void>, waitMs = 5000): Promise<{ status: number; headers: Record<string, string>; body: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const s = connect(port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer within ${waitMs} ms (got ${JSON.stringify(data.slice(0, 200))})`));
    }, waitMs);
    s.on('data', (d) => (data += d.toString()));
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      const [head, ...rest] = data.split('\r\n\r\n');
      const lines = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
      resolve({ status: Number(lines[0].split(' ')[1]), headers, body: rest.join('\r\n\r\n'), ms: Date.now() - t0 });
    });
    s.on('connect', () => void write(s));
  });
}

describe('over a real socket: slow, oversize and malformed requests', () => {
  let port = 0;
  beforeAll(async () => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  });

  const inContract = (r: { status: number; headers: Record<string, string>; body: string }, what: string) =>
    expectContract({ status: r.status, headers: r.headers, text: r.body.replace(/^[0-9a-f]+\r\n|\r\n0\r\n\r\n$/g, '') }, what);

  it('a body sent one byte at a time is cut off at the request deadline with 408, and the connection closed', async () => {
    const r = await rawHttp(port, async (s) => {
      s.write(`POST /v1/token-usage HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${tok}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`);
      for (let i = 0; i < 30 && !s.destroyed; i++) {
        s.write('{');
        await new Promise((res) => setTimeout(res, 200));
      }
    }, 8000);
    expect(r.status).toBe(408);
    expect(r.ms).toBeLessThan(3000); // requestTimeoutMs 1000
    expect(inContract(r, 'slow body').code).toBe('request_timeout');
  });

  it('a body over the route limit is refused with 413 before it is read', async () => {
    const r = await rawHttp(port, (s) => {
      s.write(`POST /v1/search HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${tok}\r\nContent-Type: application/json\r\nContent-Length: 50000000\r\n\r\n`);
      s.write('{"vector":[');
    });
    expect(r.status).toBe(413);
    inContract(r, 'oversize body');
  });

  it('oversize headers (431), garbage (400) and an over-long path segment (414) answer in the contract', async () => {
    const h = await rawHttp(port, (s) => void s.write(`GET /v1/projects HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`));
    expect(h.status).toBe(431);
    inContract(h, '431');
    const g = await rawHttp(port, (s) => void s.write('\x00\x01GARBAGE \r\n\r\n'));
    expect(g.status).toBe(400);
    inContract(g, 'garbage');
    const l = await rawHttp(port, (s) => void s.write(`GET /v1/episodes/${'y'.repeat(3000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer ${tok}\r\n\r\n`));
    expect(l.status).toBe(414);
    expect(l.body).not.toContain('yyyy');
    inContract(l, '414');
  });
});
