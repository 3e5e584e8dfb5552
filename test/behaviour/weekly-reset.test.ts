// Issue 17 #2 (seed 004 #31): the weekly reset commits each batch. Every user falls due on Monday 00:00 UTC; a
// reset in one transaction would hold the row lock of every user until it ends. Here the scheduled procedure
// (ops.run_reset_weekly_limits) is paused inside its second batch (a test trigger sleeps on one user's update) and
// a concurrent writer, with a short lock_timeout, updates a user of each batch: the first batch is already
// committed (not locked), the second is locked, the third not yet touched. A test table records the transaction of
// every reset row: one transaction per batch, none with more than a batch of users.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratedDatabase, type TestDb } from '../support/db.js';

let db: TestDb;
const BATCH = 3;
const users: string[] = [];

beforeAll(async () => {
  db = await migratedDatabase();
  // Due at distinct past Mondays, so the reset's order (week_reset_date, id) is the order of this list.
  for (let i = 0; i < 3 * BATCH; i++) {
    const id = randomUUID();
    users.push(id);
    await db.pool.query(
      `INSERT INTO app.users (id, email, week_reset_date)
       VALUES ($1, $2, date_trunc('week', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - make_interval(weeks => $3))`,
      [id, i === BATCH + 1 ? `pause-${id}@example.com` : `reset-${i}-${id}@example.com`, 20 - i],
    );
  }
  await db.pool.query(`
    CREATE SCHEMA t17;
    CREATE TABLE t17.reset_rows (user_id uuid, xid bigint);
    GRANT USAGE ON SCHEMA t17 TO PUBLIC;
    GRANT INSERT ON t17.reset_rows TO PUBLIC;
    CREATE FUNCTION t17.record() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO t17.reset_rows VALUES (NEW.id, txid_current());
      IF NEW.email LIKE 'pause-%' THEN PERFORM pg_sleep(4); END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER t17_record AFTER UPDATE OF week_reset_date ON app.users FOR EACH ROW EXECUTE FUNCTION t17.record();`);
});
afterAll(async () => {
  await db?.drop();
});

async function tryUpdate(c: pg.Client, id: string): Promise<string> {
  try {
    await c.query("UPDATE app.users SET display_name = 'concurrent writer' WHERE id = $1", [id]);
    return 'updated';
  } catch (e) {
    return (e as { code?: string }).code === '55P03' ? 'locked' : String(e);
  }
}

describe('weekly reset in committed batches (issue 17 #2)', () => {
  it('never holds the locks of more than one batch of users: done batches are free while the next one runs', async () => {
    const runner = new pg.Client({ connectionString: db.url });
    const writer = new pg.Client({ connectionString: db.superUrl });
    await runner.connect();
    await writer.connect();
    try {
      const pid = (await runner.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      const run = runner.query('CALL ops.run_reset_weekly_limits(now(), $1)', [BATCH]);
      // Wait until the procedure sleeps inside its second batch.
      for (let i = 0; ; i++) {
        const w = await writer.query("SELECT wait_event FROM pg_stat_activity WHERE pid = $1", [pid]);
        if (w.rows[0]?.wait_event === 'PgSleep') break;
        if (i > 200) throw new Error('the reset never reached the paused user');
        await new Promise((r) => setTimeout(r, 20));
      }
      await writer.query("SET lock_timeout = '300ms'");
      const seen = [];
      for (const i of [0, BATCH - 1, BATCH, BATCH + 2, 2 * BATCH, 3 * BATCH - 1]) seen.push([i, await tryUpdate(writer, users[i])]);
      expect(seen).toEqual([
        [0, 'updated'], [BATCH - 1, 'updated'], // first batch: committed, free
        [BATCH, 'locked'], [BATCH + 2, 'locked'], // second batch: the running transaction holds them
        [2 * BATCH, 'updated'], [3 * BATCH - 1, 'updated'], // third batch: not reached yet
      ]);
      await run;
    } finally {
      await runner.end();
      await writer.end();
    }
    const tx = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM t17.reset_rows GROUP BY xid ORDER BY min(xid)');
    expect(tx.rows.map((r) => r.n)).toEqual([BATCH, BATCH, BATCH]);
    const left = await db.pool.query('SELECT count(*)::int AS n FROM app.users WHERE id = ANY($1) AND week_reset_date <= now()', [users]);
    expect(left.rows[0].n).toBe(0);
    const runs = await db.pool.query<{ n: string }>(
      "SELECT metadata->>'rows_affected' AS n FROM ops.logs WHERE event_type = 'job_completed' AND metadata->>'job' = 'reset_weekly_limits' ORDER BY created_at");
    expect(runs.rows.map((r) => Number(r.n))).toEqual([BATCH, BATCH, BATCH, 0]);
  }, 30_000);

  it('is the scheduled command', async () => {
    const { rows } = await db.pool.query("SELECT command FROM ops.job_definitions() WHERE jobname = 'pgkit_reset_weekly_limits'");
    expect(rows).toEqual([{ command: 'CALL ops.run_reset_weekly_limits()' }]);
  });
});
