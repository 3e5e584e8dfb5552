// Write loads for the drills. The client is the witness: it records what the server acknowledged (and when),
// and the drill checks the restored or restarted database against that record.
import pg from 'pg';
import { sleep } from '../proc/system.js';
import type { Marker } from './verify.js';
import { parseLsn } from '../db/lsn.js';

export const DRILL_SCHEMA = 'pgkit_drill';

/**
 * The drill's own tables, outside the core schemas (so they never disturb the core-table comparison):
 * markers (one row per commit of the PITR writer) and acks (rows of the fault-drill writers).
 * `grantTo` lets an application role write acks through PgBouncer.
 */
export async function ensureDrillTables(c: Pick<pg.ClientBase, 'query'>, grantTo?: string): Promise<void> {
  await c.query(`CREATE SCHEMA IF NOT EXISTS ${DRILL_SCHEMA};
    COMMENT ON SCHEMA ${DRILL_SCHEMA} IS 'pgkit backup drills: marker rows written during drills (safe to drop)';
    CREATE TABLE IF NOT EXISTS ${DRILL_SCHEMA}.markers (
      run_id text NOT NULL, seq integer NOT NULL, written_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      PRIMARY KEY (run_id, seq));
    CREATE TABLE IF NOT EXISTS ${DRILL_SCHEMA}.acks (
      run_id text NOT NULL, id bigint NOT NULL, worker integer NOT NULL, written_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      PRIMARY KEY (run_id, id));`);
  if (grantTo) {
    const role = pg.escapeIdentifier(grantTo);
    await c.query(`GRANT USAGE ON SCHEMA ${DRILL_SCHEMA} TO ${role}; GRANT SELECT, INSERT ON ${DRILL_SCHEMA}.acks TO ${role}`);
  }
}

export interface MarkerRecord extends Marker {
  /** WAL insert position right after the row was written (its commit record follows immediately). */
  lsn: bigint;
}

export { parseLsn };

/** The first LSN after a WAL segment (everything below it is in that segment or earlier ones). */
export function segmentEndLsn(walName: string, segmentBytes: number): bigint {
  const log = BigInt(`0x${walName.slice(8, 16)}`);
  const seg = BigInt(`0x${walName.slice(16, 24)}`);
  return (log << 32n) + (seg + 1n) * BigInt(segmentBytes);
}

/** One connection committing one marker row per transaction, recording client-side send and ack times. */
export class MarkerWriter {
  readonly markers: MarkerRecord[] = [];
  readonly errors: string[] = [];
  private stopping = false;
  private done: Promise<void> | null = null;

  constructor(
    private readonly url: string,
    readonly runId: string,
    private readonly pauseMs = 20,
  ) {}

  start(): this {
    this.done = this.loop();
    return this;
  }

  private async loop() {
    const c = new pg.Client({ connectionString: this.url });
    await c.connect();
    try {
      let seq = 0;
      while (!this.stopping) {
        seq++;
        const sentAt = Date.now();
        try {
          const r = await c.query<{ lsn: string }>(
            `INSERT INTO ${DRILL_SCHEMA}.markers (run_id, seq) VALUES ($1, $2) RETURNING pg_current_wal_insert_lsn()::text AS lsn`,
            [this.runId, seq],
          );
          this.markers.push({ seq, sentAt, ackedAt: Date.now() + 1, lsn: parseLsn(r.rows[0].lsn) });
        } catch (e) {
          this.errors.push((e as Error).message);
          if (this.errors.length > 20) throw new Error(`the marker writer keeps failing: ${this.errors.at(-1)}`);
        }
        await sleep(this.pauseMs);
      }
    } finally {
      await c.end().catch(() => {});
    }
  }

  async stop(): Promise<MarkerRecord[]> {
    this.stopping = true;
    await this.done;
    return this.markers;
  }
}

export interface ArchiverSample {
  at: number;
  lastArchivedWal: string | null;
}

/** Samples pg_stat_archiver, to measure how far the repository trails acknowledged commits (the RPO). */
export class ArchiveSampler {
  readonly samples: ArchiverSample[] = [];
  segmentBytes = 16 * 1024 * 1024;
  private stopping = false;
  private done: Promise<void> | null = null;

  constructor(
    private readonly url: string,
    private readonly everyMs = 200,
  ) {}

  start(): this {
    this.done = this.loop();
    return this;
  }

  private async loop() {
    const c = new pg.Client({ connectionString: this.url });
    await c.connect();
    try {
      const s = await c.query<{ b: string }>("SELECT setting::bigint * (CASE unit WHEN 'B' THEN 1 WHEN 'MB' THEN 1048576 ELSE 1 END) AS b FROM pg_settings WHERE name = 'wal_segment_size'");
      this.segmentBytes = Number(s.rows[0].b);
      while (!this.stopping) {
        const r = await c.query<{ w: string | null }>('SELECT last_archived_wal AS w FROM pg_stat_archiver');
        this.samples.push({ at: Date.now(), lastArchivedWal: r.rows[0].w });
        await sleep(this.everyMs);
      }
    } finally {
      await c.end().catch(() => {});
    }
  }

  async stop(): Promise<ArchiverSample[]> {
    this.stopping = true;
    await this.done;
    return this.samples;
  }
}

/**
 * RPO as measured: at each sample time s, had the server been lost with its disk, the acknowledged markers
 * whose WAL was not yet in the repository would be lost; the exposure at s is s minus the acknowledgement
 * time of the oldest of them (0 when everything acknowledged was archived). Returns the worst and median.
 */
export function measureRpo(markers: MarkerRecord[], samples: ArchiverSample[], segmentBytes: number): { maxMs: number; p50Ms: number; samples: number } {
  const exposures: number[] = [];
  const sorted = [...markers].sort((a, b) => a.ackedAt - b.ackedAt);
  for (const s of samples) {
    if (!s.lastArchivedWal || /\.(partial|backup|history)$/.test(s.lastArchivedWal) || s.lastArchivedWal.length !== 24) continue;
    const frontier = segmentEndLsn(s.lastArchivedWal, segmentBytes);
    // only the window in which the writer was running counts
    if (sorted.length === 0 || s.at < sorted[0].ackedAt || s.at > sorted[sorted.length - 1].ackedAt) continue;
    const oldestLost = sorted.find((m) => m.ackedAt <= s.at && m.lsn >= frontier);
    exposures.push(oldestLost ? s.at - oldestLost.ackedAt : 0);
  }
  exposures.sort((a, b) => a - b);
  return { maxMs: exposures.at(-1) ?? NaN, p50Ms: exposures[Math.floor(exposures.length / 2)] ?? NaN, samples: exposures.length };
}

/**
 * Several writers inserting unique ids, each recording the ids the server acknowledged. On an error a writer
 * reconnects and goes on (what an application with a retry loop does); ids whose outcome it never learned
 * are "unknown", not acknowledged.
 */
export class AckWriters {
  readonly acked = new Set<number>();
  readonly unknown = new Set<number>();
  readonly errors: Array<{ at: number; message: string }> = [];
  /** Per outage: from the first failed attempt to the next success. */
  private outageStart: number | null = null;
  readonly outagesMs: number[] = [];
  private stopping = false;
  private next = 1;
  private done: Promise<void>[] = [];

  constructor(
    private readonly url: string,
    readonly runId: string,
    private readonly workers = 4,
    private readonly pauseMs = 5,
  ) {}

  start(): this {
    for (let w = 0; w < this.workers; w++) this.done.push(this.loop(w));
    return this;
  }

  private async loop(worker: number) {
    let c: pg.Client | null = null;
    while (!this.stopping) {
      const id = this.next++;
      try {
        if (!c) {
          c = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 2000 });
          c.on('error', () => {}); // a dropped connection surfaces on the next query
          await c.connect();
        }
        await c.query(`INSERT INTO ${DRILL_SCHEMA}.acks (run_id, id, worker) VALUES ($1, $2, $3)`, [this.runId, id, worker]);
        this.acked.add(id);
        if (this.outageStart !== null) {
          this.outagesMs.push(Date.now() - this.outageStart);
          this.outageStart = null;
        }
        await sleep(this.pauseMs);
      } catch (e) {
        this.unknown.add(id);
        this.errors.push({ at: Date.now(), message: (e as Error).message });
        if (this.outageStart === null) this.outageStart = Date.now();
        const old = c;
        c = null;
        await old?.end().catch(() => {});
        await sleep(100);
      }
    }
    await c?.end().catch(() => {});
  }

  /** Resolves once `n` more writes have been acknowledged after the call (or rejects after timeoutMs). */
  async waitForAcks(n: number, timeoutMs = 60_000): Promise<void> {
    const target = this.acked.size + n;
    const until = Date.now() + timeoutMs;
    while (this.acked.size < target) {
      if (Date.now() > until) throw new Error(`the writers did not get ${n} acknowledged writes within ${timeoutMs / 1000} s; last error: ${this.errors.at(-1)?.message ?? 'none'}`);
      await sleep(20);
    }
  }

  async stop() {
    this.stopping = true;
    await Promise.all(this.done);
    if (this.outageStart !== null) this.outagesMs.push(Date.now() - this.outageStart);
  }
}
