// The read replica for real, on a private stack (own folder, free ports): restored from the stack's pgBackRest
// backup, streaming and read-only, reached through PgBouncer's read-only entry, and the workload service's
// routing: a lagging replica (replay paused) must never answer a user's read of their own write, nor any read once
// its lag passes the bound.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_INSTALL, repoRoot, stackConfig, stackPaths, type StackConfig } from '../../src/config.js';
import { reservePorts, type PortLease } from '../../src/proc/ports.js';
import { sleep } from '../../src/proc/system.js';
import { runSync } from '../../src/proc/run.js';
import { connectionStrings, formatStatusTable, removeStackFiles, stackSecrets, stackStatus, startStack, stopStack, type ConnectionStrings } from '../../src/local/stack.js';
import { replicaUrls, stopReplica } from '../../src/local/replica.js';
import { contextKeysOf } from '../../src/local/secrets.js';
import { applyMigrations } from '../../src/migrate/index.js';
import { queryOnce } from '../support/query.js';
import { seed } from '../../loadtests/seed/index.js';
import { resolveScale } from '../../loadtests/seed/scale.js';
import { World } from '../../loadtests/seed/world.js';
import { buildService, READ_AFTER_HEADER, READ_FROM_HEADER, WRITE_POSITION_HEADER } from '../../loadtests/service/app.js';
import { signToken } from '../../loadtests/service/auth.js';
import type { ReadRouter } from '../../loadtests/service/readRouter.js';
import { LOADTEST_CHUNK_BASE } from '../../loadtests/lib/workload.js';

let ports: PortLease;
let cfg: StackConfig;
let urls: ConnectionStrings;
let replicaSu: string;
const NOW = Date.UTC(2026, 10, 20, 12);

async function until(what: string, ok: () => Promise<boolean>, ms = 15_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await ok()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const start = (more: Omit<NonNullable<Parameters<typeof startStack>[1]>, 'migrate' | 'replicaSharedBuffers'> = {}) =>
  startStack(cfg, { migrate: async (url) => void (await applyMigrations({ connectionString: url })), replicaSharedBuffers: '128MB', ...more });

beforeAll(async () => {
  ports = await reservePorts(3);
  const [pgPort, bouncerPort, replicaPort] = ports.ports;
  cfg = { ...stackConfig('test'), home: join(repoRoot, '.pgkit', `replica-test-${process.pid}`), pgPort, bouncerPort, replicaPort, replica: true };
}, 10_000);

afterAll(async () => {
  if (!cfg) return;
  await stopStack(cfg).catch(() => {});
  removeStackFiles(cfg);
  ports.release();
});

describe('read replica (npm start -- --replica)', () => {
  it('is restored from the stack backup, streams, and is read-only; a second start only checks it', async () => {
    const r = await start();
    urls = r.urls;
    expect(r.started).toEqual(['postgresql', 'pgbouncer', 'replica']);
    expect(r.replica?.state).toBe('streaming');
    replicaSu = replicaUrls(cfg, stackSecrets(cfg).superuserPassword, cfg.database).superuserDirect;
    expect((await queryOnce<{ r: boolean }>(replicaSu, 'SELECT pg_is_in_recovery() AS r'))[0].r).toBe(true);
    await expect(queryOnce(replicaSu, 'CREATE TABLE public.nope (id int)')).rejects.toMatchObject({ code: '25006' });
    // A commit on the primary reaches it.
    await queryOnce(urls.superuserDirect, 'CREATE TABLE IF NOT EXISTS public.replica_probe (id int PRIMARY KEY); INSERT INTO public.replica_probe VALUES (1)');
    await until('the probe row on the replica', async () => (await queryOnce(replicaSu, "SELECT 1 FROM pg_class WHERE relname = 'replica_probe'")).length === 1 && (await queryOnce(replicaSu, 'SELECT 1 FROM public.replica_probe')).length === 1);
    expect(formatStatusTable(await stackStatus(cfg))).toMatch(/replica\s+running\s+\d+\s+\d+\s+hot standby, streaming \(async\), \d+ bytes behind/);
    const again = await start();
    expect(again.started).toEqual([]);
    expect(again.replica?.state).toBe('streaming');
  }, 120_000);

  it("PgBouncer's read-only entry (<db>_readonly) reaches the replica as the application login", async () => {
    const ro = await queryOnce<{ r: boolean; u: string; db: string }>(urls.appReadonlyPooled, 'SELECT pg_is_in_recovery() AS r, current_user AS u, current_database() AS db');
    expect(ro[0]).toEqual({ r: true, u: cfg.appUser, db: cfg.database });
    expect(new URL(urls.appReadonlyPooled).pathname).toBe(`/${cfg.database}_readonly`);
    expect((await queryOnce<{ r: boolean }>(urls.appPooled, 'SELECT pg_is_in_recovery() AS r'))[0].r).toBe(false);
  });
});

describe('the workload service routes reads by replica lag and read-your-writes', () => {
  const encKeys = { 'replica-test-1': randomBytes(32).toString('base64') };
  let w: World;
  let tokA: string;
  let tokB: string;
  let ep: { episodeA: string; episodeB: string };
  const services: FastifyInstance[] = [];

  const service = (maxLagMs: number) => {
    const s = buildService({
      databaseUrl: urls.appPooled,
      workerDatabaseUrl: urls.workerPooled,
      readDatabaseUrl: urls.appReadonlyPooled,
      readMaxLagMs: maxLagMs,
      readPollMs: 50,
      jwtKeys: contextKeysOf(stackSecrets(cfg)),
      encKeys,
      poolSize: 2,
    });
    services.push(s.app);
    return { app: s.app, reads: s.reads! };
  };
  const get = async (app: FastifyInstance, url: string, token: string) => {
    const r = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
    expect(r.statusCode, r.body).toBe(200);
    return { from: r.headers[READ_FROM_HEADER], body: JSON.parse(r.body) as Record<string, unknown> };
  };
  const pause = () => queryOnce(replicaSu.replace(`/${cfg.database}`, '/postgres'), 'SELECT pg_wal_replay_pause()');
  const resume = () => queryOnce(replicaSu.replace(`/${cfg.database}`, '/postgres'), 'SELECT pg_wal_replay_resume()');
  const settle = async (reads: ReadRouter) => {
    await until('the replica to catch up', async () => {
      await reads.poll();
      return reads.lagMs() === 0 && reads.state.pendingUsers === 0;
    });
  };

  beforeAll(async () => {
    const scale = resolveScale('tiny');
    const keys = contextKeysOf(stackSecrets(cfg));
    await seed({ adminUrl: urls.superuserDirect, scale, seed: 'replica-test', reset: false, embeddings: false, dataFile: null, recallQueries: 0, now: NOW, log: () => {}, contextKeys: keys });
    w = new World(scale, 'replica-test', NOW);
    const user = keys.find((k) => k.purpose === 'user')!;
    const [a, b] = [w.orgs[0], w.orgs[1]];
    const published = (o: typeof a) => {
      const p = o.projects.map((i) => w.projects[i]).find((x) => x.episodes.some((e) => w.episodes[e].status === 'published'))!;
      return w.episodes[p.episodes.find((e) => w.episodes[e].status === 'published')!].id;
    };
    ep = { episodeA: published(a), episodeB: published(b) };
    tokA = await signToken(user, { userId: w.users[a.users[0]].id, orgId: a.id });
    tokB = await signToken(user, { userId: w.users[b.users[0]].id, orgId: b.id });
  }, 120_000);

  afterAll(async () => {
    await resume().catch(() => {});
    for (const s of services) await s.close();
  });

  it("a user's read after their own write waits for the replica: a paused replica never answers it", async () => {
    const { app, reads } = service(60_000);
    const [block] = await queryOnce<{ id: string }>(urls.superuserDirect, 'SELECT id FROM app.blocks WHERE organization_id = $1 ORDER BY id LIMIT 1', [w.orgs[0].id]);
    const vector = Array.from({ length: 1536 }, (_, i) => Math.sin(i * 0.37 + 1));
    const chunk = LOADTEST_CHUNK_BASE + 7;
    const search = async (token: string) => {
      const r = await app.inject({ method: 'POST', url: '/v1/search', headers: { authorization: `Bearer ${token}` }, payload: { vector, k: 5 } });
      expect(r.statusCode, r.body).toBe(200);
      const items = (JSON.parse(r.body) as { items: Array<{ source_id: string; chunk_index: number }> }).items;
      return { from: r.headers[READ_FROM_HEADER], mine: items.some((x) => x.source_id === block.id && x.chunk_index === chunk) };
    };
    await settle(reads);
    expect(await search(tokA)).toEqual({ from: 'replica', mine: false });
    await pause();
    try {
      const wrote = await app.inject({ method: 'POST', url: `/v1/blocks/${block.id}/embeddings`, headers: { authorization: `Bearer ${tokA}` }, payload: { vectors: [vector], firstChunk: chunk } });
      expect(wrote.statusCode, wrote.body).toBe(201);
      await reads.poll();
      // The replica stopped replaying before the write: a read of it there would not find the embedding.
      expect(await search(tokA)).toEqual({ from: 'primary', mine: true });
      // Another user, within the (wide) lag bound and with no write of their own: the replica.
      expect((await get(app, `/v1/episodes/${ep.episodeB}`, tokB)).from).toBe('replica');
    } finally {
      await resume();
    }
    await settle(reads);
    expect(await search(tokA)).toEqual({ from: 'replica', mine: true });
  }, 60_000);

  it("across instances, the write's position travels with the client: another instance serves the read from the primary until the replica has it", async () => {
    const x = service(60_000);
    const y = service(60_000);
    const [block] = await queryOnce<{ id: string }>(urls.superuserDirect, 'SELECT id FROM app.blocks WHERE organization_id = $1 ORDER BY id LIMIT 1', [w.orgs[0].id]);
    const vector = Array.from({ length: 1536 }, (_, i) => Math.cos(i * 0.41 + 2));
    const chunk = LOADTEST_CHUNK_BASE + 8;
    const search = async (app: FastifyInstance, headers: Record<string, string> = {}) => {
      const r = await app.inject({ method: 'POST', url: '/v1/search', headers: { authorization: `Bearer ${tokA}`, ...headers }, payload: { vector, k: 5 } });
      expect(r.statusCode, r.body).toBe(200);
      const items = (JSON.parse(r.body) as { items: Array<{ source_id: string; chunk_index: number }> }).items;
      return { from: r.headers[READ_FROM_HEADER], mine: items.some((i) => i.source_id === block.id && i.chunk_index === chunk) };
    };
    await settle(x.reads);
    await settle(y.reads);
    await pause();
    let position: string;
    try {
      const wrote = await x.app.inject({ method: 'POST', url: `/v1/blocks/${block.id}/embeddings`, headers: { authorization: `Bearer ${tokA}` }, payload: { vectors: [vector], firstChunk: chunk } });
      expect(wrote.statusCode, wrote.body).toBe(201);
      position = String(wrote.headers[WRITE_POSITION_HEADER]);
      expect(position).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
      await y.reads.poll();
      // Instance y never saw the write: without the position it sends the writer to the paused replica, which misses it.
      expect(await search(y.app)).toEqual({ from: 'replica', mine: false });
      // With it, y sends the read to the primary, which has it.
      expect(await search(y.app, { [READ_AFTER_HEADER]: position })).toEqual({ from: 'primary', mine: true });
      // A position that is not one is refused, not guessed at.
      const bad = await y.app.inject({ method: 'POST', url: '/v1/search', headers: { authorization: `Bearer ${tokA}`, [READ_AFTER_HEADER]: 'latest' }, payload: { vector, k: 5 } });
      expect(bad.statusCode).toBe(400);
      expect(bad.body).toMatch(/x-pgkit-read-after must be a WAL position/);
    } finally {
      await resume();
    }
    await settle(y.reads);
    expect(await search(y.app, { [READ_AFTER_HEADER]: position })).toEqual({ from: 'replica', mine: true });
  }, 60_000);

  it('past the lag bound every read goes to the primary, and back to the replica once it has caught up', async () => {
    const { app, reads } = service(300);
    await settle(reads);
    expect((await get(app, `/v1/episodes/${ep.episodeB}`, tokB)).from).toBe('replica');
    await pause();
    try {
      // Someone else's write the paused replica does not replay: user B's reads must not see a stale replica.
      const created = await app.inject({ method: 'POST', url: `/v1/episodes/${ep.episodeA}/highlights`, headers: { authorization: `Bearer ${tokA}` }, payload: { quote: 'other write', startOffset: 0, endOffset: 11 } });
      expect(created.statusCode, created.body).toBe(201);
      await sleep(500);
      await reads.poll();
      expect(reads.lagMs()).toBeGreaterThan(300);
      expect((await get(app, `/v1/episodes/${ep.episodeB}`, tokB)).from).toBe('primary');
    } finally {
      await resume();
    }
    await settle(reads);
    expect((await get(app, `/v1/episodes/${ep.episodeB}`, tokB)).from).toBe('replica');
  }, 60_000);
});

describe('a replica restored long after the newest backup', () => {
  it('takes an incremental backup first when the WAL since it passes the bound, and restores from that one', async () => {
    const info = async () => {
      const p = stackPaths(cfg);
      const r = runSync(PG_INSTALL.pgbackrest, [`--config=${p.backrestConf}`, `--stanza=${cfg.stanza}`, '--output=json', 'info'], { osUser: cfg.osUser });
      return (JSON.parse(r.stdout) as Array<{ backup: Array<{ label: string; type: string }> }>)[0].backup;
    };
    const before = await info();
    await stopReplica(cfg);
    rmSync(stackPaths(cfg).replicaHome, { recursive: true, force: true });
    // WAL since the newest backup: a few MB, over a bound of 1 MB.
    await queryOnce(urls.superuserDirect, 'CREATE TABLE IF NOT EXISTS public.replay_filler AS SELECT g AS id, repeat(md5(g::text), 20) AS t FROM generate_series(1, 20000) g');
    const lines: string[] = [];
    const r = await start({ replicaMaxReplayBytes: 1024 ** 2, log: (l) => lines.push(l) });
    expect(r.replica?.state).toBe('streaming');
    const after = await info();
    expect(after.length).toBe(before.length + 1);
    expect(after.at(-1)!.type).toBe('incr');
    expect(lines.some((l) => /of WAL behind the primary: taking an incremental backup first/.test(l))).toBe(true);
    expect(lines.some((l) => l.includes(`restoring the replica from backup ${after.at(-1)!.label}`))).toBe(true);
    // Under the bound (the default, 1 GB), a restore uses the newest backup as it is.
    await stopReplica(cfg);
    rmSync(stackPaths(cfg).replicaHome, { recursive: true, force: true });
    const again: string[] = [];
    await start({ log: (l) => again.push(l) });
    expect((await info()).length).toBe(after.length);
    expect(again.some((l) => /taking an incremental backup/.test(l))).toBe(false);
  }, 180_000);
});
