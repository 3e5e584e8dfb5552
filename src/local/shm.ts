// Parallel index builds and the POSIX shared memory they need (/dev/shm).
//
// PostgreSQL's parallel workers share a dynamic shared memory segment; with `dynamic_shared_memory_type = posix`
// (Linux's default) it is a file in /dev/shm, allocated in full when the build starts. pgvector's parallel HNSW
// build puts its whole in-memory graph in that segment: `esthnswarea = maintenance_work_mem * 1024L` and
// `shm_toc_allocate(pcxt->toc, esthnswarea)` (pgvector v0.8.0, src/hnswbuild.c, lines 930 and 976). A container
// gets 64 MiB of /dev/shm by default (Docker's `--shm-size`), so a parallel HNSW build with a 1 GB
// maintenance_work_mem fails: `could not resize shared memory segment "/PostgreSQL.…" to … bytes: No space left
// on device` (SQLSTATE 53100). A serial build keeps the graph in the backend's own memory and is not limited by
// /dev/shm. So: parallel only when /dev/shm can hold maintenance_work_mem plus a margin, else serial with the same
// maintenance_work_mem (a graph that fits in memory matters more than parallel workers: pgvector says
// "hnsw graph no longer fits into maintenance_work_mem" and builds far more slowly on disk).
import { statfsSync } from 'node:fs';
import type pg from 'pg';

export const SHM_DIR = '/dev/shm';
/** Room left for everything else that uses dynamic shared memory meanwhile (parallel queries, other clusters). */
export const SHM_MARGIN_BYTES = 64 * 1024 * 1024;

/** Bytes free in /dev/shm (or `dir`), or null where it cannot be read (no such folder: not Linux). */
export function shmFreeBytes(dir = SHM_DIR): number | null {
  try {
    const s = statfsSync(dir);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return null;
  }
}

export interface ParallelMaintenancePlan {
  /** max_parallel_maintenance_workers to use: `wanted` when the segment fits, else 0. */
  workers: number;
  /** Why, for the log. */
  reason: string;
}

/**
 * How many parallel maintenance workers a build with `maintenanceWorkMemBytes` may use when /dev/shm has
 * `shmBytes` free (null: unknown, e.g. a server on another host; then `wanted`, and the caller falls back to a
 * serial build on SQLSTATE 53100).
 */
export function parallelMaintenancePlan(shmBytes: number | null, maintenanceWorkMemBytes: number, wanted: number): ParallelMaintenancePlan {
  const mb = (b: number) => `${Math.floor(b / 1024 / 1024)} MB`;
  if (wanted <= 0) return { workers: 0, reason: 'parallel maintenance workers are off' };
  if (shmBytes === null) return { workers: wanted, reason: `free space of ${SHM_DIR} unknown: ${wanted} parallel workers, serial if the segment does not fit` };
  const need = maintenanceWorkMemBytes + SHM_MARGIN_BYTES;
  if (shmBytes >= need) return { workers: wanted, reason: `${SHM_DIR} has ${mb(shmBytes)} free, a parallel build needs ${mb(need)}: ${wanted} parallel workers` };
  return {
    workers: 0,
    reason: `${SHM_DIR} has ${mb(shmBytes)} free, a parallel build with maintenance_work_mem ${mb(maintenanceWorkMemBytes)} needs ${mb(need)}: ` +
      `serial build (give the container more, e.g. docker --shm-size=2g, for parallel workers)`,
  };
}

/** A build failed because the dynamic shared memory segment did not fit (the error above). */
export function isShmExhausted(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  return err?.code === '53100' && /shared memory segment/i.test(err.message ?? '');
}

/**
 * /dev/shm of this host when the server is on it (loopback or a Unix socket), else null (unknown). Takes a connection
 * URL or a host name.
 */
export function localShmBytes(urlOrHost: string): number | null {
  let host = urlOrHost;
  if (urlOrHost.includes('://')) {
    const u = new URL(urlOrHost);
    host = decodeURIComponent(u.hostname || u.searchParams.get('host') || '');
  }
  const local = host === '' || host.startsWith('/') || ['localhost', '127.0.0.1', '[::1]', '::1'].includes(host);
  return local ? shmFreeBytes() : null;
}

/**
 * Runs index builds (CREATE INDEX, REINDEX) with as many parallel maintenance workers as /dev/shm allows for the
 * session's maintenance_work_mem. Where /dev/shm is unknown, or shrank since it was measured, a build that fails for
 * want of it is run again serially (not a CONCURRENTLY one: its failure leaves an invalid index to drop first, so that
 * error is passed on). Leaves max_parallel_maintenance_workers set in the session.
 */
export async function buildIndexes(c: pg.Client, defs: string[], shmBytes: number | null, log: (l: string) => void): Promise<{ workers: number; reason: string }> {
  const cur = await c.query<{ w: string; m: string }>(
    `SELECT current_setting('max_parallel_maintenance_workers') AS w, (SELECT setting::bigint * 1024 FROM pg_settings WHERE name = 'maintenance_work_mem')::text AS m`,
  );
  const plan = parallelMaintenancePlan(shmBytes, Number(cur.rows[0].m), Number(cur.rows[0].w));
  log(plan.reason);
  await c.query(`SET max_parallel_maintenance_workers = ${plan.workers}`);
  for (const def of defs) {
    try {
      await c.query(def);
    } catch (e) {
      if (plan.workers === 0 || !isShmExhausted(e) || /\bCONCURRENTLY\b/i.test(def)) throw e;
      log(`the parallel build ran out of shared memory (${(e as Error).message}): building serially`);
      plan.workers = 0;
      plan.reason = `serial after the parallel build ran out of shared memory: ${(e as Error).message}`;
      await c.query('SET max_parallel_maintenance_workers = 0');
      await c.query(def);
    }
  }
  return plan;
}
