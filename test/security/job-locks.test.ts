// Issue 16 #8 (in part): an app session could make every run of a scheduled job skip, for all tenants, by holding
// the job's advisory-lock key. The job's one-run-at-a-time lock is now a row of ops.job_locks, which the
// application can neither read nor lock; two runs of one job still never overlap.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratedDatabase, type TestDb } from '../support/db.js';

let db: TestDb;
beforeAll(async () => {
  db = await migratedDatabase();
});
afterAll(async () => {
  await db?.drop();
});

async function client(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => {});
  await c.connect();
  return c;
}
const skippedCount = async () =>
  Number((await db.pool.query("SELECT count(*) AS n FROM ops.logs WHERE event_type = 'job_skipped' AND metadata->>'job' = 'reset_weekly_limits'")).rows[0].n);

describe('scheduled job locks', () => {
  it('an app session holding the old advisory key does not stop the job', async () => {
    const app = await client(db.appUrl);
    try {
      // What the break-in did: hold the key job_begin used to take.
      await app.query("SELECT pg_advisory_lock(hashtext('pgkit.job.reset_weekly_limits'))");
      const before = await skippedCount();
      const r = await db.pool.query('SELECT ops.job_reset_weekly_limits() AS r');
      expect(r.rows[0].r.status).not.toBe('skipped');
      expect(await skippedCount()).toBe(before);
    } finally {
      await app.end();
    }
  });

  it('the application can neither read nor lock the job locks', async () => {
    const app = await client(db.appUrl);
    try {
      await expect(app.query('SELECT job FROM ops.job_locks FOR UPDATE')).rejects.toThrow(/permission denied/);
      await expect(app.query("INSERT INTO ops.job_locks (job) VALUES ('reset_weekly_limits')")).rejects.toThrow(/permission denied/);
    } finally {
      await app.end();
    }
  });

  it('a second run of the same job while the first is open is skipped and logged', async () => {
    const first = await client(db.superUrl);
    try {
      await first.query('BEGIN');
      const id = (await first.query("SELECT ops.job_begin('reset_weekly_limits') AS id")).rows[0].id;
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      const before = await skippedCount();
      const second = await db.pool.query('SELECT ops.job_reset_weekly_limits() AS r');
      expect(second.rows[0].r.status).toBe('skipped');
      expect(await skippedCount()).toBe(before + 1);
    } finally {
      await first.query('ROLLBACK').catch(() => undefined);
      await first.end();
    }
    const after = await db.pool.query('SELECT ops.job_reset_weekly_limits() AS r');
    expect(after.rows[0].r.status).not.toBe('skipped');
  });
});
