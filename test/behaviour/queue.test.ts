// The episode schedule queue (sql/0610) against real PostgreSQL: 8 workers on separate connections through
// PgBouncer (the worker login with a queue-scoped worker token, sql/0930; transaction pooling) drain 5,000 items
// exactly once, completing with each claim's lease token; a worker that vanishes
// mid-item gets its item re-queued after the lease; backoff follows the formula; scheduling is
// timezone-aware and stored in UTC.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTHENTICATE_SQL } from '../../src/db/context.js';
import { asWorker } from '../support/context.js';
import { migratedDatabase, type TestDb } from '../support/db.js';
import { tenant, waitUntil, type Tenant } from './helpers.js';

/** One statement as a queue worker: the worker login, in a transaction that authenticates its worker token. */
async function asQueueWorker<R extends pg.QueryResultRow>(c: pg.ClientBase, sql: string, params: unknown[]): Promise<pg.QueryResult<R>> {
  await c.query('BEGIN');
  try {
    await c.query(AUTHENTICATE_SQL, [asWorker('queue').token]);
    const r = await c.query<R>(sql, params);
    await c.query('COMMIT');
    return r;
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  }
}

let db: TestDb;
let t: Tenant;

beforeAll(async () => {
  db = await migratedDatabase();
  t = await tenant(db.pool);
});
afterAll(async () => {
  await db?.drop();
});

describe('draining the queue', () => {
  it('8 concurrent workers through PgBouncer process 5,000 items, each exactly once, none lost', async () => {
    const ITEMS = 5000;
    const WORKERS = 8;
    await db.pool.query(
      `INSERT INTO app.episode_schedule_queue (organization_id, project_id, scheduled_for)
       SELECT $1, $2, now() - interval '1 hour' + g * interval '1 millisecond' FROM generate_series(1, $3) g`,
      [t.orgId, t.projectId, ITEMS],
    );

    const completedBy = new Map<string, string>(); // item id -> worker
    const duplicates: string[] = [];
    let claims = 0;
    const worker = async (name: string) => {
      const c = new pg.Client({ connectionString: db.workerPooledUrl });
      await c.connect();
      try {
        for (;;) {
          const { rows } = await asQueueWorker<{ id: string; attempt_count: number; lease_token: string }>(c,
            'SELECT id, attempt_count, lease_token FROM app.claim_queue_items($1, $2, $3::interval)',
            [name, 7, '5 minutes'],
          );
          if (rows.length === 0) return;
          claims += rows.length;
          for (const row of rows) {
            const done = await asQueueWorker<{ ok: boolean }>(c, 'SELECT app.complete_queue_item($1, $2) AS ok', [row.id, row.lease_token]);
            expect(done.rows[0].ok).toBe(true);
            if (completedBy.has(row.id)) duplicates.push(row.id);
            completedBy.set(row.id, name);
          }
        }
      } finally {
        await c.end();
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, (_, i) => worker(`worker-${i}`)));

    expect(duplicates).toEqual([]);
    expect(claims).toBe(ITEMS);
    expect(completedBy.size).toBe(ITEMS);
    const perWorker = new Map<string, number>();
    for (const w of completedBy.values()) perWorker.set(w, (perWorker.get(w) ?? 0) + 1);
    console.log(`[queue] items per worker: ${[...perWorker.entries()].map(([w, n]) => `${w}=${n}`).join(' ')}`);
    expect(perWorker.size).toBeGreaterThan(1); // the work really was shared

    const state = await db.pool.query(
      `SELECT status, count(*)::int AS n, min(attempt_count) AS min_attempts, max(attempt_count) AS max_attempts,
              count(*) FILTER (WHERE picked_up_at IS NULL OR completed_at IS NULL OR completed_at < picked_up_at)::int AS bad_times,
              count(*) FILTER (WHERE locked_by IS NOT NULL OR lease_expires_at IS NOT NULL)::int AS leases
       FROM app.episode_schedule_queue WHERE organization_id = $1 GROUP BY status`,
      [t.orgId],
    );
    expect(state.rows).toEqual([{ status: 'completed', n: ITEMS, min_attempts: 1, max_attempts: 1, bad_times: 0, leases: 0 }]);
  });
});

describe('a worker that vanishes', () => {
  it('gets its item re-queued after the lease, another worker finishes it, and the late worker is refused', async () => {
    const own = await tenant(db.pool);
    const { rows: [item] } = await db.pool.query<{ id: string }>(
      `INSERT INTO app.episode_schedule_queue (organization_id, project_id, scheduled_for) VALUES ($1, $2, now() - interval '1 minute') RETURNING id`,
      [own.orgId, own.projectId],
    );

    // Worker A claims with a short lease, then its connection dies mid-item.
    const a = new pg.Client({ connectionString: db.workerPooledUrl });
    await a.connect();
    const claimed = await asQueueWorker(a, 'SELECT id, attempt_count, picked_up_at, lease_expires_at, lease_token FROM app.claim_queue_items($1, 1, $2::interval) WHERE project_id = $3',
      ['worker-a', '1 second', own.projectId]);
    const leaseA = claimed.rows[0]?.lease_token as string;
    // Other items of this database are all completed, so A got ours.
    expect(claimed.rows.map((r) => r.id)).toEqual([item.id]);
    await a.end();

    // Before the lease passes, nobody else can have it and the reaper leaves it alone.
    const b = new pg.Client({ connectionString: db.workerPooledUrl });
    await b.connect();
    try {
      // The reaper runs as the scheduled job would; before the lease ends it must not touch the item.
      const early = await db.pool.query(`SELECT status, locked_by FROM app.episode_schedule_queue WHERE id = $1`, [item.id]);
      expect(early.rows[0]).toEqual({ status: 'processing', locked_by: 'worker-a' });

      await waitUntil(db.pool, 'SELECT lease_expires_at < clock_timestamp() FROM app.episode_schedule_queue WHERE id = $1', [item.id]);
      const job = await db.pool.query('SELECT ops.job_reap_queue_leases() AS r');
      expect(job.rows[0].r).toMatchObject({ status: 'completed', rows_affected: 1 });

      const requeued = await db.pool.query(
        `SELECT status, attempt_count, locked_by, last_error, next_attempt_at - updated_at > interval '0' AS in_future
         FROM app.episode_schedule_queue WHERE id = $1`, [item.id]);
      expect(requeued.rows[0]).toMatchObject({ status: 'pending', attempt_count: 1, locked_by: null, in_future: true });
      expect(requeued.rows[0].last_error).toMatch(/lease expired .* worker worker-a vanished/);
      const logged = await db.pool.query(
        "SELECT count(*)::int AS n FROM ops.logs WHERE event_type = 'queue_lease_expired' AND metadata->>'queue_item_id' = $1", [item.id]);
      expect(logged.rows[0].n).toBe(1);

      // After the backoff, worker B gets it (second attempt) and completes it.
      await waitUntil(db.pool, 'SELECT next_attempt_at <= clock_timestamp() FROM app.episode_schedule_queue WHERE id = $1', [item.id]);
      const again = await asQueueWorker(b, 'SELECT id, attempt_count, lease_token FROM app.claim_queue_items($1, 1)', ['worker-b']);
      expect(again.rows.map((r) => ({ id: r.id, attempt_count: r.attempt_count }))).toEqual([{ id: item.id, attempt_count: 2 }]);
      expect(again.rows[0].lease_token).not.toBe(leaseA);
      const lateA = await asQueueWorker(b, 'SELECT app.complete_queue_item($1, $2) AS ok', [item.id, leaseA]);
      expect(lateA.rows[0].ok).toBe(false);
      const doneB = await asQueueWorker(b, 'SELECT app.complete_queue_item($1, $2) AS ok', [item.id, again.rows[0].lease_token]);
      expect(doneB.rows[0].ok).toBe(true);
      const final = await db.pool.query('SELECT status, attempt_count FROM app.episode_schedule_queue WHERE id = $1', [item.id]);
      expect(final.rows[0]).toEqual({ status: 'completed', attempt_count: 2 });
    } finally {
      await b.end();
    }
  });
});

describe('retries', () => {
  it('backoff is 2^(n-1) s capped at 300 s: 1, 2, 4, 8 ... 256, 300, 300', async () => {
    const { rows } = await db.pool.query<{ n: number; s: number }>(
      'SELECT n, extract(epoch FROM app.queue_backoff(n))::float8 AS s FROM generate_series(1, 12) n ORDER BY n');
    expect(rows.map((r) => r.s)).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
    for (const r of rows) expect(r.s).toBe(Math.min(2 ** (r.n - 1), 300)); // seed 001: min(1000 * 2^k, 300000) ms, k from 0
  });

  it('a failing item is retried after exactly the backoff, keeps its error, and gives up at max_attempts', async () => {
    const own = await tenant(db.pool);
    const { rows: [item] } = await db.pool.query<{ id: string }>(
      `INSERT INTO app.episode_schedule_queue (organization_id, project_id, scheduled_for, max_attempts)
       VALUES ($1, $2, now() - interval '1 minute', 4) RETURNING id`, [own.orgId, own.projectId]);
    const c = await db.pool.connect();
    try {
      for (let attempt = 1; attempt <= 4; attempt++) {
        // Make the item due now (the test does not wait out the backoff) and claim it.
        await c.query('UPDATE app.episode_schedule_queue SET next_attempt_at = NULL WHERE id = $1', [item.id]);
        const claim = await c.query('SELECT id, attempt_count, lease_token FROM app.claim_queue_items($1, 1)', ['worker-f']);
        expect(claim.rows.map((r) => ({ id: r.id, attempt_count: r.attempt_count }))).toEqual([{ id: item.id, attempt_count: attempt }]);
        await c.query('BEGIN');
        const failed = await c.query('SELECT app.fail_queue_item($1, $2, $3) AS status', [item.id, claim.rows[0].lease_token, `boom ${attempt}`]);
        // now() is the failing transaction's time: the delay is measured against it, in the database.
        const row = await c.query(
          'SELECT status, last_error, attempt_count, next_attempt_at, extract(epoch FROM next_attempt_at - now())::float8 AS delay FROM app.episode_schedule_queue WHERE id = $1',
          [item.id]);
        await c.query('COMMIT');
        expect(row.rows[0].last_error).toBe(`boom ${attempt}`);
        if (attempt < 4) {
          expect(failed.rows[0].status).toBe('pending');
          expect(row.rows[0].delay).toBe(2 ** (attempt - 1));
        } else {
          expect(failed.rows[0].status).toBe('failed');
          expect(row.rows[0].next_attempt_at).toBeNull();
        }
      }
      // Given up: not claimable any more; a stranger cannot fail someone else's item.
      await c.query('UPDATE app.episode_schedule_queue SET next_attempt_at = NULL WHERE id = $1', [item.id]);
      const none = await c.query('SELECT count(*)::int AS n FROM app.claim_queue_items($1, 10)', ['worker-f']);
      expect(none.rows[0].n).toBe(0);
      const stranger = await c.query("SELECT app.fail_queue_item($1, gen_random_uuid(), 'nope') AS status", [item.id]);
      expect(stranger.rows[0].status).toBeNull();
    } finally {
      c.release();
    }
  });

  it('an item whose backoff has not passed is not handed out', async () => {
    const own = await tenant(db.pool);
    await db.pool.query(
      `INSERT INTO app.episode_schedule_queue (organization_id, project_id, scheduled_for, attempt_count, last_attempt_at, next_attempt_at, last_error)
       VALUES ($1, $2, now() - interval '1 minute', 1, now(), now() + interval '1 hour', 'earlier failure')`, [own.orgId, own.projectId]);
    const r = await db.pool.query('SELECT count(*)::int AS n FROM app.claim_queue_items($1, 100) WHERE project_id = $2', ['worker-z', own.projectId]);
    expect(r.rows[0].n).toBe(0);
  });
});

describe('timezone-aware scheduling', () => {
  it('next run is 09:00 in the user\'s timezone, stored in UTC, across a DST change', async () => {
    const q = async (cadence: object, tz: string, after: string) =>
      (await db.pool.query<{ at: Date }>('SELECT app.next_run_at($1::jsonb, $2, $3::timestamptz) AS at', [JSON.stringify(cadence), tz, after])).rows[0].at.toISOString();
    // New York: Monday 9 March 2026 is after the 8 March DST switch (UTC-4), Monday 2 March before it (UTC-5).
    expect(await q({ mode: 'weekly', days: [1], hour: 9 }, 'America/New_York', '2026-03-06T20:00:00Z')).toBe('2026-03-09T13:00:00.000Z');
    expect(await q({ mode: 'weekly', days: [1], hour: 9 }, 'America/New_York', '2026-02-27T20:00:00Z')).toBe('2026-03-02T14:00:00.000Z');
    // Tokyo: the local day is already Tuesday when UTC is Monday 23:00.
    expect(await q({ mode: 'daily', days: [1], hour: 9 }, 'Asia/Tokyo', '2026-03-09T23:00:00Z')).toBe('2026-03-10T00:00:00.000Z');
    // Weekdays skip the weekend; strictly after: at 09:00 exactly, the next slot is the next weekday.
    expect(await q({ mode: 'weekdays', days: [1], hour: 9 }, 'UTC', '2026-03-06T09:00:00Z')).toBe('2026-03-09T09:00:00.000Z');
  });

  it('schedule_project queues the next run in UTC with the user\'s timezone in metadata, once', async () => {
    const own = await tenant(db.pool, { timezone: 'Europe/Berlin' });
    await db.pool.query(`UPDATE app.projects SET cadence_config = '{"mode": "weekly", "days": [3], "hour": 7}' WHERE id = $1`, [own.projectId]);
    const first = await db.pool.query('SELECT app.schedule_project($1, NULL, $2) AS id', [own.projectId, '2026-07-01T12:00:00Z']);
    const second = await db.pool.query('SELECT app.schedule_project($1, NULL, $2) AS id', [own.projectId, '2026-07-01T12:00:00Z']);
    expect(second.rows[0].id).toBe(first.rows[0].id);
    const { rows } = await db.pool.query(
      `SELECT q.scheduled_for, q.metadata, p.next_scheduled_at FROM app.episode_schedule_queue q JOIN app.projects p ON p.id = q.project_id WHERE q.project_id = $1`,
      [own.projectId]);
    expect(rows).toHaveLength(1);
    // Wednesday 8 July 2026, 07:00 in Berlin (CEST, UTC+2) = 05:00 UTC.
    expect(rows[0].scheduled_for.toISOString()).toBe('2026-07-08T05:00:00.000Z');
    expect(rows[0].next_scheduled_at.toISOString()).toBe('2026-07-08T05:00:00.000Z');
    expect(rows[0].metadata).toMatchObject({ user_timezone: 'Europe/Berlin', user_local_time: '2026-07-08T07:00:00' });
  });
});
