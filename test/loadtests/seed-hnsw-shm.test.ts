// The seeder's HNSW build and /dev/shm (src/local/shm.ts buildIndexes, used by loadtests/seed and loadtests/bench). A parallel HNSW build
// puts maintenance_work_mem in one POSIX shared memory segment; in a container with 64 MiB of /dev/shm the seed's
// parallel build failed ("could not resize shared memory segment ... No space left on device"). Reproduced here
// for real without filling anyone's /dev/shm: maintenance_work_mem set above the size of this host's /dev/shm makes
// tmpfs refuse the segment at once (the whole range exceeds the file system), the same error as the container's.
import { statfsSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIndexes as buildHnsw, localShmBytes, parallelMaintenancePlan, SHM_MARGIN_BYTES, shmFreeBytes } from '../../src/local/shm.js';
import { renderPostgresConf } from '../../src/local/render.js';
import { stackConfig } from '../../src/config.js';
import { freshDatabase, type TestDb } from '../support/db.js';
import { HNSW_GRAPH_BYTES_PER_VECTOR, SEED_MAINTENANCE_WORK_MEM_MB, seedMaintenanceWorkMemMb } from '../../loadtests/seed/index.js';

let db: TestDb;
let c: pg.Client;
const shm = statfsSync('/dev/shm');
const shmSize = Number(shm.blocks) * Number(shm.bsize);
// Above the whole of /dev/shm: a parallel build cannot get its segment, and nothing is allocated.
const hugeMwmKb = Math.ceil(shmSize / 1024) + 1024 * 1024;
const INDEX = 'CREATE INDEX shm_items_v_idx ON shm_items USING hnsw (v vector_cosine_ops) WITH (m = 4, ef_construction = 8)';

beforeAll(async () => {
  db = await freshDatabase();
  c = new pg.Client({ connectionString: db.superUrl });
  await c.connect();
  await c.query('CREATE EXTENSION vector');
  await c.query('CREATE TABLE shm_items (id int PRIMARY KEY, v vector(3) NOT NULL)');
  await c.query('INSERT INTO shm_items SELECT i, ARRAY[random(), random(), random() + 0.01]::vector FROM generate_series(1, 300) i');
  // The planner gives a table this small no workers unless told: 2 workers, as a large table would get.
  await c.query('ALTER TABLE shm_items SET (parallel_workers = 2)');
  await c.query(`SET maintenance_work_mem = '${hugeMwmKb}kB'`);
});

afterAll(async () => {
  await c?.end();
  await db?.drop();
});

async function indexExists() {
  return (await c.query("SELECT 1 FROM pg_class WHERE relname = 'shm_items_v_idx'")).rowCount === 1;
}

describe('HNSW builds sized to /dev/shm', () => {
  it('a parallel build whose maintenance_work_mem does not fit in /dev/shm fails (the container failure, for real)', async () => {
    await c.query('SET max_parallel_maintenance_workers = 2');
    await expect(c.query(INDEX)).rejects.toMatchObject({ code: '53100', message: expect.stringMatching(/could not resize shared memory segment/) });
    expect(await indexExists()).toBe(false);
  });

  it('measured /dev/shm too small: the seeder builds serially from the start', async () => {
    await c.query('SET max_parallel_maintenance_workers = 2');
    const lines: string[] = [];
    const plan = await buildHnsw(c, [INDEX], shmFreeBytes(), (l) => lines.push(l));
    expect(plan.workers).toBe(0);
    expect(plan.reason).toMatch(/serial build/);
    expect(lines.join('\n')).toMatch(/\/dev\/shm has \d+ MB free/);
    expect(await indexExists()).toBe(true);
    await c.query('DROP INDEX shm_items_v_idx');
  });

  it('/dev/shm unknown (a server on another host): tries in parallel, and on SQLSTATE 53100 builds serially', async () => {
    await c.query('SET max_parallel_maintenance_workers = 2');
    const lines: string[] = [];
    const plan = await buildHnsw(c, [INDEX], null, (l) => lines.push(l));
    expect(plan.workers).toBe(0);
    expect(plan.reason).toMatch(/ran out of shared memory/);
    expect(lines.some((l) => /building serially/.test(l))).toBe(true);
    expect(await indexExists()).toBe(true);
    await c.query('DROP INDEX shm_items_v_idx');
  });

  it('a REINDEX CONCURRENTLY that runs out is not retried (its failure leaves an invalid index behind): the error is passed on', async () => {
    await c.query('SET max_parallel_maintenance_workers = 0');
    await c.query(INDEX);
    await c.query('SET max_parallel_maintenance_workers = 2');
    await expect(buildHnsw(c, ['REINDEX INDEX CONCURRENTLY shm_items_v_idx'], null, () => {})).rejects.toMatchObject({ code: '53100' });
    const left = await c.query<{ relname: string }>("SELECT relname FROM pg_class WHERE relname LIKE 'shm_items_v_idx_ccnew%'");
    expect(left.rowCount).toBe(1);
    await c.query(`DROP INDEX ${left.rows[0].relname}`);
    // Measured /dev/shm: serial from the start, and the rebuild succeeds.
    expect((await buildHnsw(c, ['REINDEX INDEX CONCURRENTLY shm_items_v_idx'], shmFreeBytes(), () => {})).workers).toBe(0);
    await c.query('DROP INDEX shm_items_v_idx');
  });

  it('room enough: the server setting stands (parallel)', async () => {
    await c.query("SET maintenance_work_mem = '64MB'");
    await c.query('SET max_parallel_maintenance_workers = 2');
    const plan = await buildHnsw(c, [INDEX], 64 * 1024 * 1024 + SHM_MARGIN_BYTES, () => {});
    expect(plan.workers).toBe(2);
    expect((await c.query<{ w: string }>("SELECT current_setting('max_parallel_maintenance_workers') AS w")).rows[0].w).toBe('2');
    expect(await indexExists()).toBe(true);
  });

  it('the plan: parallel only when maintenance_work_mem plus the margin fits; a 64 MiB container gets a serial build', () => {
    const GB = 1024 ** 3;
    expect(parallelMaintenancePlan(64 * 1024 * 1024, GB, 2).workers).toBe(0);
    expect(parallelMaintenancePlan(GB + SHM_MARGIN_BYTES, GB, 2).workers).toBe(2);
    expect(parallelMaintenancePlan(GB + SHM_MARGIN_BYTES - 1, GB, 2).workers).toBe(0);
    expect(parallelMaintenancePlan(null, GB, 3).workers).toBe(3);
    expect(parallelMaintenancePlan(8 * GB, GB, 0).workers).toBe(0);
  });

  it("the seed's maintenance_work_mem holds the whole HNSW graph above full scale, within the host's memory", () => {
    const GB = 1024 ** 3;
    // Up to full scale (100k vectors) the 1 GB default: the CI workflow's --shm-size is sized for it.
    expect(seedMaintenanceWorkMemMb(0, 24 * GB)).toBe(SEED_MAINTENANCE_WORK_MEM_MB);
    expect(seedMaintenanceWorkMemMb(100_000, 24 * GB)).toBe(SEED_MAINTENANCE_WORK_MEM_MB);
    // 3x and 10x get the graph's size, which the 1 GB default was not (the first scale run's 3x built on disk).
    const tenX = seedMaintenanceWorkMemMb(1_000_000, 24 * GB);
    expect(tenX * 1024 * 1024).toBeGreaterThanOrEqual(1_000_000 * HNSW_GRAPH_BYTES_PER_VECTOR);
    expect(seedMaintenanceWorkMemMb(300_000, 24 * GB)).toBeGreaterThan(SEED_MAINTENANCE_WORK_MEM_MB);
    // Never more than 40% of the host; a server on another host keeps the default.
    expect(seedMaintenanceWorkMemMb(1_000_000, 8 * GB)).toBe(Math.floor((8 * GB * 0.4) / 1024 / 1024));
    expect(seedMaintenanceWorkMemMb(1_000_000, null)).toBe(SEED_MAINTENANCE_WORK_MEM_MB);
    expect(seedMaintenanceWorkMemMb(1_000_000, 2 * GB)).toBe(SEED_MAINTENANCE_WORK_MEM_MB);
  });

  it('the seeder measures /dev/shm only for a server on this host', () => {
    expect(localShmBytes('postgres://u:p@127.0.0.1:5432/db')).toBe(shmFreeBytes());
    expect(localShmBytes('postgres://u:p@localhost/db')).toBe(shmFreeBytes());
    expect(localShmBytes('postgres://u:p@db.example.invalid:5432/db')).toBeNull();
    expect(localShmBytes('127.0.0.1')).toBe(shmFreeBytes());
    expect(localShmBytes('db.example.invalid')).toBeNull();
  });

  it("the local stack's postgresql.conf gives parallel maintenance workers only where /dev/shm holds maintenance_work_mem", () => {
    const conf = renderPostgresConf(stackConfig('test'));
    const mwm = Number(/^maintenance_work_mem = (\d+)MB$/m.exec(conf)![1]) * 1024 * 1024;
    const workers = Number(/^max_parallel_maintenance_workers = (\d+)$/m.exec(conf)![1]);
    expect(workers).toBe(parallelMaintenancePlan(shmFreeBytes(), mwm, workers || 1).workers === 0 ? 0 : workers);
    expect(workers > 0).toBe((shmFreeBytes() ?? 0) >= mwm + SHM_MARGIN_BYTES);
  });
});
