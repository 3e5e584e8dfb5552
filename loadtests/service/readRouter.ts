// Where a read-only request goes: the read replica while its replay lag is under a bound and it has replayed the
// asking user's last write, the primary otherwise.
//
// Lag: every pollMs the router reads the primary's WAL position (pg_current_wal_lsn) and the replica's replay
// position (pg_last_wal_replay_lsn). The lag is how long ago the primary first held WAL the replica has not
// replayed yet (0 when it has replayed everything the primary had at the last poll). Unlike
// now() - pg_last_xact_replay_timestamp() it does not grow on an idle primary.
//
// Read-your-writes: after a user's write commits, the service reads the primary's WAL position (an extra round
// trip on writes only): it is past that commit. That user's reads go to the replica only once its replay position
// (as last polled, so never ahead of the truth) has reached it. The positions live in this process, so for a service
// run as several instances the position also travels with the client: a write's response carries it
// (x-pgkit-write-position) and a read that sends it back (x-pgkit-read-after) goes to the replica only once the
// replica has replayed that far, whichever instance serves it (app.ts; docs/loadtests.md).
import type pg from 'pg';
import { parseLsn } from '../../src/db/lsn.js';

export type ReadTarget = 'replica' | 'primary';

export interface ReadRouterOptions {
  /** The primary (the service's write pool) and the replica (APP_READ_DATABASE_URL). */
  primary: Pick<pg.Pool, 'query'>;
  replica: Pick<pg.Pool, 'query'>;
  /** Reads go to the replica only while its lag is at most this (SERVICE_READ_MAX_LAG_MS). */
  maxLagMs: number;
  /** How often the positions are read. Default 100 ms: the lag bound holds to within this. */
  pollMs?: number;
  /** Users whose last write the replica has not replayed yet that are remembered; past it, reads go to the primary. */
  maxPendingUsers?: number;
  now?: () => number;
}

interface Sample {
  at: number;
  lsn: bigint;
}

export class ReadRouter {
  private readonly samples: Sample[] = [];
  private replayed: bigint | null = null;
  private lastOkAt = -Infinity;
  private readonly pending = new Map<string, bigint>();
  /** Users whose write committed but whose position could not be read: resolved by the next primary reading. */
  private readonly unresolved = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  readonly counts: Record<ReadTarget, number> = { replica: 0, primary: 0 };
  private readonly now: () => number;
  private readonly pollMs: number;

  constructor(private readonly o: ReadRouterOptions) {
    this.now = o.now ?? Date.now;
    this.pollMs = o.pollMs ?? 100;
  }

  start(): this {
    if (!this.timer) {
      this.timer = setInterval(() => void this.poll(), this.pollMs);
      this.timer.unref();
      void this.poll();
    }
    return this;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.polling;
  }

  /** One reading of both positions (the timer calls it; tests call it to be sure of a fresh one). */
  poll(): Promise<void> {
    this.polling ??= this.readPositions().finally(() => {
      this.polling = null;
    });
    return this.polling;
  }

  private async readPositions(): Promise<void> {
    try {
      // The primary first: a replay position read after it can only be further on, so the lag is not overstated.
      const p = await this.o.primary.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
      const at = this.now();
      const r = await this.o.replica.query<{ lsn: string | null }>('SELECT pg_last_wal_replay_lsn()::text AS lsn');
      const replay = r.rows[0].lsn;
      if (replay === null) throw new Error('the read endpoint is not a standby (pg_last_wal_replay_lsn() is null)');
      this.observe(at, parseLsn(p.rows[0].lsn), parseLsn(replay));
    } catch {
      this.lastOkAt = -Infinity; // unreachable or not a standby: reads go to the primary until a good reading
    }
  }

  /** Records one reading: the primary's position at `at`, and the replica's replay position read after it. */
  observe(at: number, primaryLsn: bigint, replayLsn: bigint): void {
    this.samples.push({ at, lsn: primaryLsn });
    this.replayed = this.replayed === null || replayLsn > this.replayed ? replayLsn : this.replayed;
    // Samples the replica has passed tell nothing more than the newest of them; old ones bound the memory.
    while (this.samples.length > 1 && (this.samples[1].lsn <= this.replayed || this.samples.length > 10_000)) this.samples.shift();
    // A reading taken after a commit is past it: that is the position the user's reads wait for.
    for (const [user, since] of this.unresolved) {
      if (since > at) continue;
      this.unresolved.delete(user);
      const had = this.pending.get(user);
      if (had === undefined || primaryLsn > had) this.pending.set(user, primaryLsn);
    }
    for (const [user, lsn] of this.pending) if (lsn <= this.replayed) this.pending.delete(user);
    this.lastOkAt = at;
  }

  /** Replay lag in ms as of the last reading; null when there is no good reading. */
  lagMs(): number | null {
    if (this.replayed === null || this.now() - this.lastOkAt > Math.max(3 * this.pollMs, 1000)) return null;
    const behind = this.samples.find((s) => s.lsn > this.replayed!);
    return behind ? this.now() - behind.at : 0;
  }

  /**
   * Where a read-only request of `userId` goes now. `readAfter`: a WAL position the client says it has written up to
   * (another instance's x-pgkit-write-position); the replica only once it has replayed that far.
   */
  route(userId: string | null, readAfter: bigint | null = null): ReadTarget {
    const lag = this.lagMs();
    const ok =
      lag !== null &&
      lag <= this.o.maxLagMs &&
      this.pending.size + this.unresolved.size <= (this.o.maxPendingUsers ?? 100_000) &&
      (userId === null || (!this.pending.has(userId) && !this.unresolved.has(userId))) &&
      (readAfter === null || (this.replayed !== null && this.replayed >= readAfter));
    const target: ReadTarget = ok ? 'replica' : 'primary';
    this.counts[target]++;
    return target;
  }

  /**
   * After a user's write committed: its position, which that user's reads must wait for on the replica. Returns it
   * (null when it could not be read) for the client to carry to other instances.
   */
  async noteWrite(userId: string): Promise<bigint | null> {
    const committedBy = this.now();
    try {
      const r = await this.o.primary.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
      const lsn = parseLsn(r.rows[0].lsn);
      if (this.replayed === null || lsn > this.replayed) this.pending.set(userId, lsn);
      return lsn;
    } catch {
      // No position now: the user's reads stay on the primary until a primary reading taken after this moment.
      this.unresolved.set(userId, committedBy);
      return null;
    }
  }

  /** The replica failed a request: reads go to the primary until the next good reading. */
  markDown(): void {
    this.lastOkAt = -Infinity;
  }

  get state() {
    return { lagMs: this.lagMs(), maxLagMs: this.o.maxLagMs, pendingUsers: this.pending.size + this.unresolved.size, routed: { ...this.counts } };
  }
}
