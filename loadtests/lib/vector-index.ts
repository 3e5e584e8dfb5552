// Every measurement that searches or writes vectors (the DB bench, and the k6 runs of vector-search and spike, each
// capacity step included) starts from a freshly built HNSW graph over the seeded rows, whatever earlier runs did.
//
// Why: a k6 run's teardown deletes the embeddings it wrote, but a delete leaves its elements in the HNSW graph until
// a VACUUM repairs it, and pgvector's VACUUM of a 400 MB graph keeps a core busy for minutes. So the run after a
// vector-search run measured either a graph full of dead elements to route around (vector search p99 18 ms against
// 10 on a fresh graph after 19,700 rows were removed) or autovacuum repairing it on one of the box's two cores: the
// last capacity steps of 2026-12-06 measured a single search per second at p50 67 ms and the bulk insert of 100 at
// p50 1.04 s, while the DB bench on a fresh graph measured 172 ms (docs/loadtests.md).
//
// Knowing the graph is fresh: deletes cannot be seen in the table afterwards (a run that inserts and deletes the same
// rows leaves it as it was), so a marker (loadtest.vector_index_state) records, at each rebuild, the table's
// cumulative write counters (pg_stat_user_tables n_tup_ins + n_tup_upd + n_tup_del) and the HNSW indexes' file
// nodes. Any write since, a statistics reset (a crash) or an index built by someone else makes it stale: rebuilt.
import { totalmem } from 'node:os';
import type pg from 'pg';
import { buildIndexes, localShmBytes } from '../../src/local/shm.js';
import { LOADTEST_CHUNK_BASE } from './workload.js';

/** maintenance_work_mem for the seeder's index builds up to full scale: the HNSW graph at full scale (~400 MB) fits. */
export const SEED_MAINTENANCE_WORK_MEM_MB = 1024;
/**
 * Bytes of maintenance_work_mem one vector takes in pgvector's in-memory HNSW graph, with room to spare: the full
 * scale index (halfvec(1536), m = 16) is 4.2 KB a vector on disk, and the in-memory element adds its neighbour
 * candidates. Measured: at 3x full scale (300k vectors, 1.2 GB index) a 1 GB maintenance_work_mem made pgvector
 * finish the build on disk ("hnsw graph no longer fits into maintenance_work_mem"): 401 s against 54 s at full scale,
 * for 3x the vectors, on a loaded box (the first scale run of 2026-12-06); with the graph in memory, 192 s (quiet).
 */
export const HNSW_GRAPH_BYTES_PER_VECTOR = 6 * 1024;
/** At most this share of the host's memory goes to one build's graph (shared_buffers and the OS cache need the rest). */
export const HNSW_GRAPH_MAX_MEMORY_SHARE = 0.4;

/**
 * maintenance_work_mem (MB) for building the HNSW index over `vectors`: the default 1 GB up to full scale; above
 * that, enough for the whole graph (a graph that spills to disk builds many times more slowly), capped at
 * HNSW_GRAPH_MAX_MEMORY_SHARE of `hostMemoryBytes` when the server's host is known (null: a remote server, which keeps
 * the 1 GB default; RDS allows the session to raise it, but this host cannot see that instance's memory).
 */
export function seedMaintenanceWorkMemMb(vectors: number, hostMemoryBytes: number | null): number {
  const graphMb = Math.ceil((vectors * HNSW_GRAPH_BYTES_PER_VECTOR) / 1024 / 1024);
  if (graphMb <= SEED_MAINTENANCE_WORK_MEM_MB || hostMemoryBytes === null) return SEED_MAINTENANCE_WORK_MEM_MB;
  return Math.max(SEED_MAINTENANCE_WORK_MEM_MB, Math.min(graphMb, Math.floor((hostMemoryBytes * HNSW_GRAPH_MAX_MEMORY_SHARE) / 1024 / 1024)));
}

const STATE_TABLE = 'loadtest.vector_index_state';

/**
 * How long the counters must stay unchanged before they are taken as settled. A backend flushes its pending table
 * statistics when it goes idle, but not within PGSTAT_MIN_INTERVAL (1 s) of its last flush: then it waits for
 * PGSTAT_IDLE_INTERVAL, 10 s (PostgreSQL 15+, src/backend/utils/activity/pgstat.c, pgstat_report_stat). A backend
 * that exits flushes at once. So 11 s: a service backend's last writes cannot arrive after the marker is taken.
 */
export const STATS_SETTLE_MS = 11_000;
const STATS_SETTLE_MAX_MS = 120_000;

export interface VectorIndexState {
  /** n_tup_ins + n_tup_upd + n_tup_del of app.rag_embeddings. */
  writes: string;
  /** The HNSW indexes' names and file nodes, sorted: changes when any is rebuilt or replaced. */
  indexes: string;
}

export interface FreshIndexResult {
  /** Load-test rows (chunk_index >= LOADTEST_CHUNK_BASE) deleted first. */
  deletedRows: number;
  /** Whether the graph was rebuilt, and why (or why not). */
  rebuilt: boolean;
  reason: string;
  seconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function currentState(c: pg.Client): Promise<VectorIndexState> {
  // This session's own writes first (PostgreSQL 15+): flushed when it goes idle after this statement.
  await c.query('SELECT pg_catalog.pg_stat_force_next_flush()');
  const r = await c.query<{ writes: string; indexes: string | null }>(
    `SELECT (s.n_tup_ins + s.n_tup_upd + s.n_tup_del)::text AS writes,
            (SELECT string_agg(format('%s:%s', i.relname, i.relfilenode), ',' ORDER BY i.relname)
               FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid JOIN pg_catalog.pg_am a ON a.oid = i.relam
              WHERE x.indrelid = 'app.rag_embeddings'::regclass AND a.amname = 'hnsw') AS indexes
       FROM pg_catalog.pg_stat_user_tables s WHERE s.relid = 'app.rag_embeddings'::regclass`,
  );
  const row = r.rows[0];
  if (!row) throw new Error('app.rag_embeddings has no statistics row: is this a pgkit database (npm run migrate)?');
  return { writes: row.writes, indexes: row.indexes ?? '' };
}

/** The table's counters once every backend's pending statistics are flushed (two reads a settle interval apart agree). */
export async function settledState(c: pg.Client, settleMs = STATS_SETTLE_MS): Promise<VectorIndexState> {
  let prev = await currentState(c);
  const t0 = performance.now();
  while (performance.now() - t0 < STATS_SETTLE_MAX_MS) {
    await sleep(Math.max(settleMs, 100));
    const now = await currentState(c);
    if (now.writes === prev.writes) return now;
    prev = now;
  }
  throw new Error(`app.rag_embeddings is still being written (its write counter kept moving for ${STATS_SETTLE_MAX_MS / 1000} s): ` +
    'stop the workload service\'s load (another k6 run?) before measuring vectors');
}

async function readMarker(c: pg.Client): Promise<VectorIndexState | null> {
  await c.query(`CREATE SCHEMA IF NOT EXISTS loadtest`);
  await c.query(`CREATE TABLE IF NOT EXISTS ${STATE_TABLE} (id boolean PRIMARY KEY DEFAULT true CHECK (id), writes text NOT NULL, indexes text NOT NULL, rebuilt_at timestamptz NOT NULL DEFAULT now())`);
  return (await c.query<VectorIndexState>(`SELECT writes, indexes FROM ${STATE_TABLE}`)).rows[0] ?? null;
}

/**
 * Records that the HNSW graph is fresh as of now (after the seeder's build, or a rebuild here). Waits for the
 * statistics to settle first, so the marker holds the writes that came before the build. The seeder, the only
 * writer of its database, passes 0: its own statistics are flushed on demand.
 */
export async function markVectorIndexFresh(c: pg.Client, settleMs = STATS_SETTLE_MS): Promise<void> {
  await readMarker(c);
  const s = await settledState(c, settleMs);
  await c.query(
    `INSERT INTO ${STATE_TABLE} (id, writes, indexes, rebuilt_at) VALUES (true, $1, $2, now())
     ON CONFLICT (id) DO UPDATE SET writes = EXCLUDED.writes, indexes = EXCLUDED.indexes, rebuilt_at = EXCLUDED.rebuilt_at`,
    [s.writes, s.indexes],
  );
}

/**
 * Deletes the rows load tests wrote and, when app.rag_embeddings was written since its HNSW graph was last built here
 * (or by the seeder), rebuilds that graph (REINDEX CONCURRENTLY: searches keep working) and vacuums the table.
 * `c` is the operator's connection (the loader: it owns the loadtest schema).
 */
export async function ensureFreshVectorIndex(c: pg.Client, log: (line: string) => void, settleMs = STATS_SETTLE_MS): Promise<FreshIndexResult> {
  const t0 = performance.now();
  const del = await c.query('DELETE FROM app.rag_embeddings WHERE chunk_index >= $1', [LOADTEST_CHUNK_BASE]);
  const deletedRows = del.rowCount ?? 0;
  const marker = await readMarker(c);
  const now = await settledState(c, settleMs);
  let reason: string | null = null;
  if (deletedRows > 0) reason = `${deletedRows} load-test rows were left by earlier runs`;
  else if (!marker) reason = 'no record of when the HNSW graph was last built';
  else if (marker.indexes !== now.indexes) reason = 'the HNSW index was rebuilt or replaced elsewhere since it was recorded';
  else if (marker.writes !== now.writes) reason = `app.rag_embeddings was written since its HNSW graph was built (${BigInt(now.writes) - BigInt(marker.writes)} row writes, or a statistics reset)`;
  if (reason === null) return { deletedRows, rebuilt: false, reason: 'the HNSW graph is fresh: no writes since it was built', seconds: (performance.now() - t0) / 1000 };

  const hnsw = await c.query<{ name: string }>(
    `SELECT format('%I.%I', n.nspname, i.relname) AS name FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
     JOIN pg_catalog.pg_namespace n ON n.oid = i.relnamespace JOIN pg_catalog.pg_am a ON a.oid = i.relam
     WHERE x.indrelid = 'app.rag_embeddings'::regclass AND a.amname = 'hnsw'`);
  log(`${reason}: rebuilding ${hnsw.rows.map((h) => h.name).join(', ') || '(no HNSW index)'} and vacuuming, so the run measures a fresh graph...`);
  // The whole graph in memory, as the seeder builds it (a graph that spills to disk builds many times more slowly).
  const rows = Number((await c.query<{ n: string }>('SELECT count(*) AS n FROM app.rag_embeddings')).rows[0].n);
  const shm = localShmBytes(c.host ?? '');
  await c.query(`SET maintenance_work_mem = '${seedMaintenanceWorkMemMb(rows, shm === null ? null : totalmem())}MB'`);
  try {
    // A parallel rebuild puts maintenance_work_mem in /dev/shm: serial where it does not fit (src/local/shm.ts).
    await buildIndexes(c, hnsw.rows.map((h) => `REINDEX INDEX CONCURRENTLY ${h.name}`), shm, (l) => log(`rebuilding the HNSW index: ${l}`));
  } finally {
    await c.query('RESET maintenance_work_mem');
    await c.query('RESET max_parallel_maintenance_workers');
  }
  await c.query('VACUUM (ANALYZE) app.rag_embeddings');
  await markVectorIndexFresh(c, settleMs);
  const seconds = (performance.now() - t0) / 1000;
  log(`HNSW graph rebuilt in ${seconds.toFixed(1)} s`);
  return { deletedRows, rebuilt: true, reason, seconds };
}
