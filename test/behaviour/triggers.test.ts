// Triggers and counter caches (sql/0600, 0630, 0640, 0650) against real PostgreSQL: every trigger with its
// bad input (message into a completed session, update of an immutable message, invalid chat type, negative
// duration, clock going backwards, rate limit), counters that cannot drift under concurrent writers and
// deletes, the weekly reset (Monday UTC, idempotent, recovers from missed runs), updated_at everywhere.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratedDatabase, type TestDb } from '../support/db.js';
import { failure, messageKeySetup, tenant, tx, type Tenant } from './helpers.js';

let db: TestDb;
let t: Tenant;
let setKeys: string | null;
let scenarioId: string;

const MSG = `INSERT INTO app.chat_messages (organization_id, session_id, user_id, role, chat_type, content) VALUES ($1, $2, $3, $4, $5, 'hello') RETURNING id`;

async function session(opts: { episode?: string | null; scenario?: string | null; user?: string } = {}): Promise<string> {
  const id = randomUUID();
  await db.pool.query('INSERT INTO app.chat_sessions (id, organization_id, user_id, episode_id, scenario_id) VALUES ($1, $2, $3, $4, $5)', [
    id, t.orgId, opts.user ?? t.userId, opts.episode === undefined ? t.episodeId : opts.episode, opts.scenario ?? null,
  ]);
  return id;
}
const message = (sessionId: string, role = 'main_assistant', chatType = 'main') =>
  tx(db.pool, setKeys, async (c) => (await c.query(MSG, [t.orgId, sessionId, t.userId, role, chatType])).rows[0].id as string);
const drift = async () => (await db.pool.query('SELECT counter, id, cached, actual FROM app_private.counter_drift()')).rows;

beforeAll(async () => {
  db = await migratedDatabase();
  t = await tenant(db.pool);
  setKeys = await messageKeySetup(db.pool);
  scenarioId = (await db.pool.query("INSERT INTO app.scenarios (code, title) VALUES ('market', 'Marketplace') RETURNING id")).rows[0].id;
  // The default chat rate limit is exercised in its own test; the others write faster than a user would.
  await db.pool.query("UPDATE ops.rate_limits SET enabled = false WHERE name = 'chat_messages.user' AND organization_id IS NULL");
});
afterAll(async () => {
  await db?.drop();
});

describe('bad input is refused', () => {
  it('a message into a completed session', async () => {
    const s = await session();
    await message(s);
    await db.pool.query('UPDATE app.chat_sessions SET is_completed = true WHERE id = $1', [s]);
    expect(await failure(message(s))).toMatchObject({ code: '23514', constraint: 'chat_messages_session_open_check' });
  });

  it('an update of an immutable message (soft delete stays allowed)', async () => {
    const s = await session();
    const m = await message(s);
    expect(await failure(db.pool.query("UPDATE app.chat_messages SET role = 'user' WHERE id = $1", [m])))
      .toMatchObject({ code: '23514', constraint: 'chat_messages_immutable_check' });
    await db.pool.query('UPDATE app.chat_messages SET deleted_at = now(), deleted_reason = $2 WHERE id = $1', [m, 'gdpr']);
  });

  it('an invalid chat type', async () => {
    const s = await session();
    // Not a member of the enum: refused before any trigger runs.
    expect(await failure(message(s, 'user', 'sidebar'))).toMatchObject({ code: '22P02' });
    // The counting trigger itself has no silent ELSE (seed 004 #11): a chat_type it does not know raises.
    expect(await failure(db.pool.query("SELECT app_private.chat_message_count_change($1, NULL, 1, now())", [s])))
      .toMatchObject({ code: '23514', constraint: 'chat_messages_chat_type_check' });
  });

  it('a negative duration (completed before it started)', async () => {
    const s = await session();
    expect(await failure(db.pool.query("UPDATE app.chat_sessions SET is_completed = true, completed_at = created_at - interval '1 second' WHERE id = $1", [s])))
      .toMatchObject({ code: '23514', constraint: 'chat_sessions_completed_after_created_check' });
    expect(await failure(db.pool.query('UPDATE app.chat_sessions SET duration_seconds = -5 WHERE id = $1', [s]))).toMatchObject({ code: '428C9' });
    await db.pool.query("UPDATE app.chat_sessions SET is_completed = true, completed_at = created_at + interval '90 seconds' WHERE id = $1", [s]);
    const r = await db.pool.query('SELECT duration_seconds FROM app.chat_sessions WHERE id = $1', [s]);
    expect(r.rows[0].duration_seconds).toBe(90);
  });

  it('the clock going backwards: completion, updated_at, last_message_at, queue completion never move back', async () => {
    // Rows stamped "in the future" are what a server clock that stepped back sees.
    const s = randomUUID();
    await db.pool.query(
      "INSERT INTO app.chat_sessions (id, organization_id, user_id, created_at, updated_at) VALUES ($1, $2, $3, now() + interval '1 hour', now() + interval '1 hour')",
      [s, t.orgId, t.userId]);
    await db.pool.query('UPDATE app.chat_sessions SET title = $2 WHERE id = $1', [s, 'renamed']);
    await db.pool.query('UPDATE app.chat_sessions SET is_completed = true WHERE id = $1', [s]);
    const r = await db.pool.query(
      'SELECT updated_at >= created_at AS updated_ok, completed_at = created_at AS completed_clamped, duration_seconds FROM app.chat_sessions WHERE id = $1', [s]);
    expect(r.rows[0]).toEqual({ updated_ok: true, completed_clamped: true, duration_seconds: 0 });

    const s2 = randomUUID();
    await db.pool.query("INSERT INTO app.chat_sessions (id, organization_id, user_id, created_at, updated_at, last_message_at) VALUES ($1, $2, $3, now() - interval '1 hour', now() - interval '1 hour', now() + interval '1 hour')",
      [s2, t.orgId, t.userId]);
    await message(s2);
    const lm = await db.pool.query("SELECT last_message_at > now() + interval '59 minutes' AS kept FROM app.chat_sessions WHERE id = $1", [s2]);
    expect(lm.rows[0].kept).toBe(true);

    const q = await db.pool.query<{ id: string }>(
      `INSERT INTO app.episode_schedule_queue (organization_id, project_id, scheduled_for, status, picked_up_at, attempt_count, last_attempt_at, locked_by, lease_expires_at, lease_token)
       VALUES ($1, $2, now(), 'processing', now() + interval '1 hour', 1, now() + interval '1 hour', 'w', now() + interval '2 hours', '00000000-0000-4000-8000-0000000000aa') RETURNING id`,
      [t.orgId, t.projectId]);
    const done = await db.pool.query("SELECT app.complete_queue_item($1, '00000000-0000-4000-8000-0000000000aa') AS ok", [q.rows[0].id]);
    expect(done.rows[0].ok).toBe(true);
    const qc = await db.pool.query('SELECT completed_at = picked_up_at AS clamped FROM app.episode_schedule_queue WHERE id = $1', [q.rows[0].id]);
    expect(qc.rows[0].clamped).toBe(true);
  });
});

describe('chat message rate limit (configurable in ops.rate_limits)', () => {
  it('refuses user messages closer than min_interval or above max per window, per organization override, idempotent retries pass', async () => {
    const s = await session({ episode: null });
    await db.pool.query(
      "INSERT INTO ops.rate_limits (name, organization_id, min_interval, max_events, per_interval) VALUES ('chat_messages.user', $1, interval '1 hour', 100, interval '1 hour')",
      [t.orgId]);
    const cmid = randomUUID();
    const userMsg = (clientId: string | null) =>
      tx(db.pool, setKeys, (c) => c.query(
        `INSERT INTO app.chat_messages (organization_id, session_id, user_id, role, chat_type, content, client_message_id)
         VALUES ($1, $2, $3, 'user', 'main', 'hi', $4) ON CONFLICT DO NOTHING`, [t.orgId, s, t.userId, clientId]));
    await userMsg(cmid);
    expect(await failure(userMsg(null))).toMatchObject({ code: 'P0429' });
    await userMsg(cmid); // the same message retried: no error, nothing added
    await message(s); // assistant replies are not rate limited
    // Window limit: min_interval off, at most 2 per hour (one already sent).
    await db.pool.query("UPDATE ops.rate_limits SET min_interval = interval '0', max_events = 2 WHERE organization_id = $1", [t.orgId]);
    await userMsg(null);
    expect(await failure(userMsg(null))).toMatchObject({ code: 'P0429' });
    await db.pool.query('UPDATE ops.rate_limits SET enabled = false WHERE organization_id = $1', [t.orgId]);
    await userMsg(null);
    const n = await db.pool.query("SELECT count(*)::int AS n FROM app.chat_messages WHERE session_id = $1 AND role = 'user'", [s]);
    expect(n.rows[0].n).toBe(3);
  });
});

describe('counter caches', () => {
  it('session and episode message counts and highlight counts stay exact under concurrent writers, soft and hard deletes', async () => {
    const episode2 = (await db.pool.query(
      "INSERT INTO app.episodes (organization_id, project_id, episode_number, title) VALUES ($1, $2, 2, 'Two') RETURNING id", [t.orgId, t.projectId])).rows[0].id;
    const sessions = await Promise.all(Array.from({ length: 4 }, (_, i) => session({ episode: i % 2 ? episode2 : t.episodeId })));
    const conns = await Promise.all(Array.from({ length: 8 }, async () => {
      const c = new pg.Client({ connectionString: db.superUrl });
      await c.connect();
      return c;
    }));
    try {
      await Promise.all(conns.map(async (c, w) => {
        for (let i = 0; i < 40; i++) {
          await c.query('BEGIN');
          if (setKeys) await c.query(setKeys);
          const s = sessions[(w + i) % sessions.length];
          const [role, type] = i % 3 === 0 ? ['helper_assistant', 'helper'] : ['main_assistant', 'main'];
          await c.query(MSG, [t.orgId, s, t.userId, role, type]);
          await c.query(
            `INSERT INTO app.highlights (organization_id, user_id, episode_id, quote, start_offset, end_offset) VALUES ($1, $2, $3, 'q', 0, 1)`,
            [t.orgId, t.userId, i % 2 ? episode2 : t.episodeId]);
          await c.query('COMMIT');
        }
      }));
    } finally {
      await Promise.all(conns.map((c) => c.end()));
    }
    // Soft delete some messages and highlights, hard delete others, move one highlight, delete one session.
    await db.pool.query(`UPDATE app.chat_messages SET deleted_at = now() WHERE id IN (SELECT id FROM app.chat_messages WHERE session_id = $1 LIMIT 7)`, [sessions[0]]);
    await db.pool.query(`DELETE FROM app.chat_messages WHERE id IN (SELECT id FROM app.chat_messages WHERE session_id = $1 AND deleted_at IS NULL LIMIT 5)`, [sessions[1]]);
    await db.pool.query(`UPDATE app.highlights SET deleted_at = now() WHERE id IN (SELECT id FROM app.highlights WHERE episode_id = $1 LIMIT 9)`, [t.episodeId]);
    await db.pool.query(`DELETE FROM app.highlights WHERE id IN (SELECT id FROM app.highlights WHERE episode_id = $1 AND deleted_at IS NULL LIMIT 4)`, [episode2]);
    await db.pool.query(`UPDATE app.highlights SET episode_id = $2 WHERE id IN (SELECT id FROM app.highlights WHERE episode_id = $1 AND deleted_at IS NULL LIMIT 3)`, [t.episodeId, episode2]);
    await db.pool.query('DELETE FROM app.chat_sessions WHERE id = $1', [sessions[2]]);

    // Sessions are exact at once; episodes are exact counting the pending deltas, and after the fold.
    expect(await drift()).toEqual([]);
    const fold = await db.pool.query('SELECT ops.job_fold_episode_counters() AS r');
    expect(fold.rows[0].r.status).toBe('completed');
    expect(fold.rows[0].r.rows_affected).toBeGreaterThan(0);
    expect((await db.pool.query('SELECT count(*)::int AS n FROM app_private.episode_counter_deltas')).rows[0].n).toBe(0);
    expect(await drift()).toEqual([]);
    const e = await db.pool.query(
      `SELECT e.highlight_count, (SELECT count(*)::int FROM app.highlights h WHERE h.episode_id = e.id AND h.deleted_at IS NULL) AS highlights,
              e.chat_message_count, (SELECT count(*)::int FROM app.chat_messages m JOIN app.chat_sessions s ON s.id = m.session_id
                                     WHERE s.episode_id = e.id AND m.deleted_at IS NULL) AS messages
       FROM app.episodes e WHERE e.id = ANY($1) ORDER BY e.episode_number`, [[t.episodeId, episode2]]);
    for (const row of e.rows) {
      expect(row.highlight_count).toBe(row.highlights);
      expect(row.chat_message_count).toBe(row.messages);
      expect(row.highlight_count).toBeGreaterThan(0);
    }
  });

  it('completed scenario and weekly counts: each transition once, reopen/delete/soft delete/move taken back', async () => {
    const other = (await db.pool.query("INSERT INTO app.users (email) VALUES ($1) RETURNING id", [`other-${randomUUID()}@example.com`])).rows[0].id;
    const counts = async (u: string) =>
      (await db.pool.query('SELECT completed_scenario_count AS total, current_week_completion_count AS week FROM app.users WHERE id = $1', [u])).rows[0];
    const base = await counts(t.userId);
    const s1 = await session({ scenario: scenarioId, episode: null });
    const s2 = await session({ scenario: scenarioId, episode: null });
    const s3 = await session({ scenario: null, episode: null }); // not a scenario: never counted
    for (const s of [s1, s2, s3]) await db.pool.query('UPDATE app.chat_sessions SET is_completed = true WHERE id = $1', [s]);
    await db.pool.query("UPDATE app.chat_sessions SET title = 'again' WHERE id = $1", [s1]); // unrelated update: no change
    expect(await counts(t.userId)).toEqual({ total: base.total + 2, week: base.week + 2 });
    await db.pool.query('UPDATE app.chat_sessions SET is_completed = false WHERE id = $1', [s1]); // reopen
    expect(await counts(t.userId)).toEqual({ total: base.total + 1, week: base.week + 1 });
    await db.pool.query('UPDATE app.chat_sessions SET is_completed = true WHERE id = $1', [s1]); // complete again
    expect(await counts(t.userId)).toEqual({ total: base.total + 2, week: base.week + 2 });
    // Completed last week: counts in the total, not in this week.
    await db.pool.query("UPDATE app.chat_sessions SET created_at = now() - interval '30 days', completed_at = now() - interval '20 days' WHERE id = $1", [s2]);
    expect(await counts(t.userId)).toEqual({ total: base.total + 2, week: base.week + 1 });
    await db.pool.query('UPDATE app.chat_sessions SET deleted_at = now() WHERE id = $1', [s1]); // soft delete
    expect(await counts(t.userId)).toEqual({ total: base.total + 1, week: base.week });
    await db.pool.query('UPDATE app.chat_sessions SET user_id = $2 WHERE id = $1', [s2, other]); // moved to another user
    expect(await counts(t.userId)).toEqual({ total: base.total, week: base.week });
    expect(await counts(other)).toEqual({ total: 1, week: 0 });
    await db.pool.query('DELETE FROM app.chat_sessions WHERE id = $1', [s2]); // hard delete
    expect(await counts(other)).toEqual({ total: 0, week: 0 });
    expect(await drift()).toEqual([]);
  });

  it('weekly reset: aligned to Monday 00:00 UTC, recomputed from sessions, idempotent, recovers from missed runs', async () => {
    const u = (await db.pool.query(
      "INSERT INTO app.users (email, current_week_completion_count) VALUES ($1, 0) RETURNING id, week_reset_date", [`reset-${randomUUID()}@example.com`])).rows[0];
    // New users reset next Monday 00:00 UTC.
    const monday = await db.pool.query("SELECT $1::timestamptz = date_trunc('week', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + interval '7 days' AS ok", [u.week_reset_date]);
    expect(monday.rows[0].ok).toBe(true);
    // Missed three weeks of runs: the reset date is long past and the cached weekly count is stale.
    await db.pool.query("UPDATE app.users SET week_reset_date = date_trunc('week', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - interval '21 days', current_week_completion_count = 5 WHERE id = $1", [u.id]);
    const s = randomUUID();
    await db.pool.query('INSERT INTO app.chat_sessions (id, organization_id, user_id, scenario_id, is_completed) VALUES ($1, $2, $3, $4, true)', [s, t.orgId, u.id, scenarioId]);
    // The scheduled procedure (issue 17 #2: one committed batch of 2 users at a time), summed over its job runs.
    const run = async (at = 'now()') => {
      const mark = (await db.pool.query('SELECT clock_timestamp() AS t')).rows[0].t;
      await db.pool.query(`CALL ops.run_reset_weekly_limits(${at}, 2)`);
      return (await db.pool.query(
        `SELECT bool_and(event_type = 'job_completed') AS completed, coalesce(sum((metadata->>'rows_affected')::int), 0)::int AS rows_affected
         FROM ops.logs WHERE metadata->>'job' = 'reset_weekly_limits' AND event_type IN ('job_completed', 'job_failed') AND created_at >= $1`, [mark])).rows[0];
    };
    const first = await run();
    expect(first.completed).toBe(true);
    expect(first.rows_affected).toBeGreaterThanOrEqual(1);
    const after = await db.pool.query(
      "SELECT current_week_completion_count AS week, week_reset_date = date_trunc('week', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + interval '7 days' AS next_monday FROM app.users WHERE id = $1", [u.id]);
    expect(after.rows[0]).toEqual({ week: 1, next_monday: true }); // this week's completion kept, stale 5 gone
    const second = await run();
    expect(second.rows_affected).toBe(0); // idempotent: nothing due any more
    const again = await db.pool.query('SELECT current_week_completion_count AS week FROM app.users WHERE id = $1', [u.id]);
    expect(again.rows[0].week).toBe(1);
    // Run "next Monday": the week turns, the count becomes that week's (zero).
    const next = await run("date_trunc('week', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + interval '7 days 1 minute'");
    expect(next.rows_affected).toBeGreaterThanOrEqual(1);
    const turned = await db.pool.query(
      "SELECT current_week_completion_count AS week, week_reset_date = date_trunc('week', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + interval '14 days' AS following FROM app.users WHERE id = $1", [u.id]);
    expect(turned.rows[0]).toEqual({ week: 0, following: true });
  });
});

describe('updated_at everywhere', () => {
  it('every table with updated_at has the set_updated_at trigger, and it moves only on a real change', async () => {
    const missing = await db.pool.query(`
      SELECT c.oid::regclass::text AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'updated_at' AND NOT a.attisdropped
      WHERE n.nspname IN ('app', 'app_private', 'ops', 'audit') AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        AND NOT EXISTS (SELECT 1 FROM pg_trigger tg WHERE tg.tgrelid = c.oid AND tg.tgfoid = 'app_private.tg__set_updated_at()'::regprocedure)
      ORDER BY 1`);
    expect(missing.rows).toEqual([]);
    const p = await db.pool.query('SELECT updated_at FROM app.projects WHERE id = $1', [t.projectId]);
    await db.pool.query('UPDATE app.projects SET name = name WHERE id = $1', [t.projectId]);
    expect((await db.pool.query('SELECT updated_at FROM app.projects WHERE id = $1', [t.projectId])).rows[0].updated_at).toEqual(p.rows[0].updated_at);
    await db.pool.query("UPDATE app.projects SET name = 'Renamed' WHERE id = $1", [t.projectId]);
    const moved = await db.pool.query('SELECT updated_at > $2 AS moved FROM app.projects WHERE id = $1', [t.projectId, p.rows[0].updated_at]);
    expect(moved.rows[0].moved).toBe(true);
  });
});
