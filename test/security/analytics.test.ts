// Issue 17 #6: analytics. Engagement per episode is a materialized view (no row-level security) kept in
// app_private and read by the app only through app.episode_engagement(), filtered to the request's organization;
// the seed 000 P3 per-user metrics are a security_invoker view. Break-in: organization A reads none of B's rows,
// by any of these paths, and cannot read the materialized view itself.
import pg from 'pg';
import { describe, expect, it, beforeAll } from 'vitest';
import { withContext } from '../../src/db/context.js';
import { twoTenants } from './two-tenants.js';
import { tx } from '../behaviour/helpers.js';
import { asUser } from '../support/context.js';

const t = twoTenants();
const as = <T extends pg.QueryResultRow>(orgId: string, userId: string | null, sql: string) =>
  (orgId && userId
    ? withContext(t.app, asUser(orgId, userId), async (tx) => (await tx.query<T>(sql)).rows)
    : tx(t.app, null, async (c: pg.PoolClient) => (await c.query<T>(sql)).rows));

beforeAll(async () => {
  const ev = (who: { orgId: string; userId: string; episodeId: string }, type: string, value: object) =>
    t.db.pool.query('INSERT INTO app.engagement_events (organization_id, user_id, episode_id, event_type, event_value) VALUES ($1, $2, $3, $4, $5)', [
      who.orgId, who.userId, who.episodeId, type, JSON.stringify(value),
    ]);
  await ev(t.a, 'episode_opened', {});
  await ev(t.a, 'episode_opened', {});
  await ev(t.a, 'scroll_depth', { depth: 40 });
  await ev(t.a, 'scroll_depth', { depth: 80 });
  await ev(t.a, 'time_on_block', { duration: 30 });
  await ev(t.a, 'episode_completed', {});
  await ev(t.b, 'episode_opened', {});
  await ev(t.b, 'scroll_depth', { depth: 10 });
  await t.db.pool.query("INSERT INTO app.highlights (organization_id, user_id, episode_id, quote, start_offset, end_offset) VALUES ($1, $2, $3, 'a quote', 0, 5)", [t.a.orgId, t.a.userId, t.a.episodeId]);
  const r = (await t.db.pool.query('SELECT ops.job_refresh_analytics() AS r')).rows[0].r;
  expect(r, JSON.stringify(r)).toMatchObject({ status: 'completed', rows_affected: 2 });
});

describe('analytics (issue 17 #6)', () => {
  it('engagement per episode: the materialized view, refreshed CONCURRENTLY by its job, read through app.episode_engagement()', async () => {
    const rows = await as(t.a.orgId, t.a.userId, 'SELECT episode_id, readers, opens, completions, avg_read_depth_percent, time_on_blocks_seconds, refreshed_at IS NOT NULL AS refreshed FROM app.episode_engagement()');
    expect(rows).toEqual([{ episode_id: t.a.episodeId, readers: '1', opens: '2', completions: '1', avg_read_depth_percent: '80.0', time_on_blocks_seconds: '30', refreshed: true }]);
    const idx = await t.db.pool.query("SELECT indexdef FROM pg_indexes WHERE schemaname = 'app_private' AND tablename = 'episode_engagement' AND indexdef LIKE 'CREATE UNIQUE%'");
    expect(idx.rows).toHaveLength(1);
    const { rows: job } = await t.db.pool.query("SELECT schedule, command FROM ops.job_definitions() WHERE jobname = 'pgkit_refresh_analytics'");
    expect(job).toEqual([{ schedule: '*/15 * * * *', command: 'SELECT ops.job_refresh_analytics()' }]);
  });

  it('break-in: A never reads B, by organization id, without a context, or from the materialized view itself', async () => {
    expect(await as(t.b.orgId, t.a.userId, 'SELECT episode_id FROM app.episode_engagement()')).toEqual([]); // forged org, not a member
    expect(await as('', null, 'SELECT episode_id FROM app.episode_engagement()')).toEqual([]);
    const bOwn = await as<{ episode_id: string }>(t.b.orgId, t.b.userId, 'SELECT episode_id FROM app.episode_engagement()');
    expect(bOwn.map((r) => r.episode_id)).toEqual([t.b.episodeId]); // (the probe can find rows)
    await expect(as(t.a.orgId, t.a.userId, 'SELECT * FROM app_private.episode_engagement')).rejects.toMatchObject({ code: '42501' });
    const viewA = await as<{ organization_id: string }>(t.a.orgId, t.a.userId, 'SELECT organization_id FROM app.user_engagement');
    expect(viewA.map((r) => r.organization_id)).toEqual([t.a.orgId]);
    expect(await as(t.a.orgId, t.a.userId, `SELECT * FROM app.user_engagement WHERE organization_id = '${t.b.orgId}'`)).toEqual([]);
  });

  it("the seed 000 P3 metrics per user: highlights, chat messages, average read depth, highlights per episode", async () => {
    const [row] = await as<Record<string, unknown>>(t.a.orgId, t.a.userId, 'SELECT user_id, total_chat_messages, avg_read_depth_percent, episodes_read, total_highlights, avg_highlights_per_episode FROM app.user_engagement');
    expect(row).toEqual({ user_id: t.a.userId, total_chat_messages: 0, avg_read_depth_percent: 80, episodes_read: 1, total_highlights: 1, avg_highlights_per_episode: '1.00' });
  });
});
