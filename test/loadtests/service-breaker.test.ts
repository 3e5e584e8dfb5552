// The workload service's circuit breaker (issue 17 #7, seed 003 §4.1 / Summary #3) and /health's "slow" vs
// "unreachable" (issue 21 #4), against a private PgBouncer (test/support/private-pooler.ts) in front of the
// test stack's PostgreSQL: stopping that pooler, or cutting PostgreSQL off behind it, disturbs no other test.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { migratedDatabase, type TestDb } from '../support/db.js';
import { privatePooler, type PrivatePooler } from '../support/private-pooler.js';
import { tenant, type Tenant } from '../behaviour/helpers.js';
import { buildService } from '../../loadtests/service/app.js';
import { signToken, signWorkerToken } from '../../loadtests/service/auth.js';
import type { CircuitBreaker } from '../../loadtests/service/breaker.js';
import { expectContract } from './service-contract.js';
import { testContextKeys } from '../support/context.js';

// The test stack's context keys, registered in every migrated test database (the database verifies them too).
const keys = testContextKeys();
const secret = keys.find((k) => k.purpose === 'user')!;
const workerKey = keys.find((k) => k.purpose === 'worker')!;
const encKeys = { 'brk-1': randomBytes(32).toString('base64') };
let db: TestDb;
let pooler: PrivatePooler;
let t: Tenant;
let tok: string;
let app: FastifyInstance;
let breaker: CircuitBreaker;
let url: string;
/** Connection attempts the service made (pool.connect calls): what an open breaker saves. */
let attempts = 0;

async function get(path: string) {
  const t0 = performance.now();
  const r = await app.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${tok}` } });
  return { status: r.statusCode, headers: r.headers as Record<string, unknown>, text: r.body, ms: performance.now() - t0 };
}

/** Requests until one succeeds; returns how long recovery took (the service is never restarted). */
async function recovery(limitMs: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const r = await get('/v1/projects');
    if (r.status === 200) return Date.now() - t0;
    expect(r.status).toBe(503);
    expectContract(r, 'while recovering');
    if (Date.now() - t0 > limitMs) throw new Error(`no recovery within ${limitMs} ms: last answer ${r.status} ${r.text}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

beforeAll(async () => {
  db = await migratedDatabase();
  t = await tenant(db.pool);
  tok = await signToken(secret, { userId: t.userId, orgId: t.orgId });
  pooler = await privatePooler({ poolSize: 2 });
  url = pooler.appUrl(db.name, db.appPooledUrl);
  let pool: pg.Pool;
  ({ app, breaker, pool } = buildService({
    databaseUrl: url, workerDatabaseUrl: pooler.appUrl(db.name, db.workerPooledUrl), jwtKeys: keys, encKeys, poolSize: 4, statementTimeoutMs: 500, healthTimeoutMs: 1000,
    breaker: { threshold: 3, openMs: 300, maxOpenMs: 1000 },
  }));
  const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
  (pool as unknown as { connect: () => Promise<pg.PoolClient> }).connect = () => {
    attempts++;
    return connect();
  };
});

afterAll(async () => {
  await app?.close();
  await pooler?.close();
  await db?.drop();
});

describe('circuit breaker', () => {
  it('PgBouncer stopped: 503 in the contract at once, the breaker opens and answers without touching the network; restarted: requests succeed again by themselves', async () => {
    expect((await get('/v1/projects')).status).toBe(200);
    await pooler.stopPooler();
    const answers = [];
    let took = 0;
    try {
      attempts = 0;
      for (let i = 0; i < 20; i++) answers.push(await get('/v1/projects'));
      for (const a of answers) {
        expect(a.status).toBe(503);
        expect(expectContract(a).code).toBe('unavailable');
        expect(Number(a.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      }
      expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(2000); // connection refused: no wait for any
      expect(breaker.state === 'open' || breaker.state === 'half-open').toBe(true);
      // Three attempts opened the breaker; after that only the occasional half-open trial touches the network.
      expect(attempts).toBeLessThan(10);
      const h = await app.inject({ method: 'GET', url: '/health' });
      expect(h.statusCode).toBe(503);
      expect(JSON.parse(h.body).database).toBe('unreachable');
    } finally {
      await pooler.startPooler();
    }
    took = await recovery(10_000);
    expect(breaker.state).toBe('closed');
    console.log(`[breaker] PgBouncer stopped: ${answers.length} answers, max ${Math.max(...answers.map((a) => a.ms)).toFixed(1)} ms, ${attempts} connection attempts; recovered ${took} ms after the restart`);
  });

  it('PostgreSQL gone behind PgBouncer: bounded first wait, then fast 503s; back: recovers by itself', async () => {
    expect((await get('/v1/projects')).status).toBe(200);
    await pooler.stopDatabase();
    const t0 = Date.now();
    const answers = [];
    let total = 0;
    try {
      for (let i = 0; i < 12; i++) answers.push(await get('/v1/projects'));
      total = Date.now() - t0;
      for (const a of answers) {
        expect(a.status).toBe(503);
        expectContract(a);
      }
      // A query already waiting in PgBouncer's queue gets no answer until query_wait_timeout (30 s here): the
      // service gives up after statement timeout + 1 s and drops that connection; new connections get PgBouncer's
      // immediate "server login has been failing", which opens the breaker.
      expect(total).toBeLessThan(8000);
      for (const a of answers.slice(-4)) expect(a.ms).toBeLessThan(500);
      expect(breaker.state === 'open' || breaker.state === 'half-open').toBe(true);
    } finally {
      await pooler.startDatabase();
    }
    const took = await recovery(20_000);
    expect(breaker.state).toBe('closed');
    console.log(`[breaker] PostgreSQL gone: ${answers.length} answers in ${total} ms (${answers.map((a) => Math.round(a.ms)).join(', ')} ms); recovered ${took} ms after its return`);
  });
});

describe('/health tells a slow database from an unreachable one', () => {
  it('the pooler has no free server connection: "slow"; freed: "ok"', async () => {
    // Both of the private pooler's server connections held by open transactions.
    const holders = [new pg.Client({ connectionString: url }), new pg.Client({ connectionString: url })];
    for (const c of holders) {
      c.on('error', () => {});
      await c.connect();
      await c.query('BEGIN');
      await c.query('SELECT 1');
    }
    try {
      const h = await app.inject({ method: 'GET', url: '/health' });
      expect(h.statusCode).toBe(503);
      const body = JSON.parse(h.body);
      expect(body.database).toBe('slow');
      expect(expectContract({ status: h.statusCode, headers: h.headers, text: h.body }).code).toBe('timeout');
    } finally {
      for (const c of holders) await c.end();
    }
    const ok = await app.inject({ method: 'GET', url: '/health' });
    expect(ok.statusCode).toBe(200);
    expect(JSON.parse(ok.body).database).toBe('ok');
  });
});
