// Token accounting (sql/0620) against real PostgreSQL: 16 concurrent writers insert 20,000 token_usage rows
// (single rows and multi-row statements, several organizations, operations and days); token_usage_daily must
// equal the GROUP BY over the raw rows exactly. The cost circuit breaker trips at the limit and not before,
// exactly once under concurrency, blocks queued work with a reason, and releases it the next day.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratedDatabase, type TestDb } from '../support/db.js';
import { appCanInsert, tenant, type Tenant } from './helpers.js';
import { setContext } from '../support/context.js';

let db: TestDb;
let orgs: Tenant[];
let writerUrl: string;

const INSERT = `INSERT INTO app.token_usage (organization_id, created_at, operation, model_used, input_tokens, output_tokens, cost_gbp)`;

beforeAll(async () => {
  db = await migratedDatabase();
  orgs = [];
  for (let i = 0; i < 3; i++) orgs.push(await tenant(db.pool, { dailyCostLimit: 1_000_000 }));
  // Writers are the app role through PgBouncer once the security bundle grants it token_usage; until then
  // the superuser on separate direct connections (the roll-up trigger is SECURITY DEFINER either way).
  const viaApp = await appCanInsert(db.appPooledUrl, orgs[0], `${INSERT} VALUES ($1, now(), 'chat', 'm', 1, 1, 0)`, [orgs[0].orgId]);
  writerUrl = viaApp ? db.appPooledUrl : db.superUrl;
  console.log(`[token accounting] writers connect as ${viaApp ? 'the app role through PgBouncer' : 'the superuser, direct (app role has no INSERT on token_usage yet)'}`);
});
afterAll(async () => {
  await db?.drop();
});

const OPS = ['episode_generation', 'project_onboarding', 'chat', 'embedding', 'insight_extraction'];

describe('token_usage_daily', () => {
  it('equals SUM ... GROUP BY exactly after 16 concurrent writers insert 20,000 rows', async () => {
    const WRITERS = 16;
    const PER_WRITER = 1250;
    const writer = async (w: number) => {
      const c = new pg.Client({ connectionString: writerUrl });
      await c.connect();
      let left = PER_WRITER;
      let k = 0;
      try {
        while (left > 0) {
          const size = Math.min(left, 1 + ((w * 7 + k * 3) % 10)); // 1..10 rows per statement
          const t = orgs[(w + k) % orgs.length];
          const org = t.orgId;
          const values: string[] = [];
          const params: unknown[] = [org];
          for (let i = 0; i < size; i++) {
            const day = (k + i) % 4 === 0 ? "now() - interval '1 day'" : 'now()';
            const op = OPS[(w + k + i) % OPS.length];
            const cost = (((w * 31 + k * 17 + i * 13) % 997) / 1000 + 0.000001).toFixed(6);
            values.push(`($1, ${day}, '${op}', 'model-${i % 3}', ${100 + ((w + i) % 50)}, ${10 + ((k + i) % 40)}, ${cost})`);
          }
          await c.query('BEGIN');
          await setContext(c, org, t.userId); // a member of the organization (sql/0400)
          await c.query(`${INSERT} VALUES ${values.join(', ')}`, params);
          await c.query('COMMIT');
          left -= size;
          k++;
        }
      } finally {
        await c.end();
      }
    };
    await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));

    const raw = await db.pool.query(`SELECT count(*)::int AS n FROM app.token_usage`);
    expect(raw.rows[0].n).toBe(WRITERS * PER_WRITER);

    // Every column of the roll-up against a recount, compared as text (numeric exactness, no float).
    const diff = await db.pool.query(`
      WITH truth AS (
        SELECT organization_id, (created_at AT TIME ZONE 'UTC')::date AS usage_date,
               sum(input_tokens)::bigint AS i, sum(output_tokens)::bigint AS o, sum(total_tokens)::bigint AS t,
               sum(cost_gbp) AS c, count(*)::int AS calls, count(*) FILTER (WHERE operation = 'episode_generation')::int AS e
        FROM app.token_usage GROUP BY 1, 2
      )
      SELECT coalesce(t.organization_id, d.organization_id) AS org, coalesce(t.usage_date, d.usage_date) AS day,
             row(t.i, t.o, t.t, t.c::text, t.calls, t.e)::text AS expected,
             row(d.total_input_tokens, d.total_output_tokens, d.total_tokens, d.total_cost_gbp::text, d.call_count, d.episode_count)::text AS actual
      FROM truth t FULL JOIN app.token_usage_daily d USING (organization_id, usage_date)
      WHERE row(t.i, t.o, t.t, t.c, t.calls, t.e) IS DISTINCT FROM
            row(d.total_input_tokens, d.total_output_tokens, d.total_tokens, d.total_cost_gbp, d.call_count, d.episode_count)`);
    expect(diff.rows).toEqual([]);

    const breakdown = await db.pool.query(`
      WITH truth AS (
        SELECT organization_id, usage_date, jsonb_object_agg(op, jsonb_build_object('tokens', t, 'cost', c, 'calls', n)) AS b
        FROM (SELECT organization_id, (created_at AT TIME ZONE 'UTC')::date AS usage_date, operation::text AS op,
                     sum(total_tokens)::bigint AS t, sum(cost_gbp) AS c, count(*)::bigint AS n
              FROM app.token_usage GROUP BY 1, 2, 3) per_op
        GROUP BY 1, 2
      )
      SELECT t.organization_id, t.usage_date, t.b AS expected, d.operation_breakdown AS actual
      FROM truth t FULL JOIN app.token_usage_daily d USING (organization_id, usage_date)
      WHERE t.b IS DISTINCT FROM d.operation_breakdown`);
    expect(breakdown.rows).toEqual([]);

    const days = await db.pool.query('SELECT count(*)::int AS n FROM app.token_usage_daily');
    expect(days.rows[0].n).toBe(orgs.length * 2); // three organizations, today and yesterday
  });

  it('accounting columns of a usage row are immutable', async () => {
    const r = await db.pool.query('SELECT id FROM app.token_usage LIMIT 1');
    await expect(db.pool.query('UPDATE app.token_usage SET cost_gbp = cost_gbp + 1 WHERE id = $1', [r.rows[0].id])).rejects.toMatchObject({
      code: '23514',
      constraint: 'token_usage_accounting_immutable_check',
    });
  });
});

describe('cost circuit breaker', () => {
  const usage = (org: string, cost: string) =>
    db.pool.query(`${INSERT} VALUES ($1, now(), 'episode_generation', 'm', 10, 10, $2)`, [org, cost]);
  const queueStates = async (org: string) =>
    (await db.pool.query('SELECT status::text, last_error FROM app.episode_schedule_queue WHERE organization_id = $1 ORDER BY scheduled_for', [org])).rows;

  it('trips at the limit and not before, blocks pending items with the reason, and releases them the next day', async () => {
    const t = await tenant(db.pool, { dailyCostLimit: 10 });
    await db.pool.query(
      `INSERT INTO app.episode_schedule_queue (organization_id, project_id, scheduled_for)
       SELECT $1, $2, now() - g * interval '1 minute' FROM generate_series(1, 3) g`, [t.orgId, t.projectId]);

    await usage(t.orgId, '3.33');
    await usage(t.orgId, '3.33');
    await usage(t.orgId, '3.33');
    await usage(t.orgId, '0.009999');
    // 9.999999 < 10.00: not tripped.
    expect((await queueStates(t.orgId)).map((r) => r.status)).toEqual(['pending', 'pending', 'pending']);

    await usage(t.orgId, '0.000001'); // exactly 10.000000 = the limit
    const blocked = await queueStates(t.orgId);
    expect(blocked.map((r) => r.status)).toEqual(['blocked', 'blocked', 'blocked']);
    for (const r of blocked) expect(r.last_error).toMatch(/daily cost limit reached: 10\.000000 GBP spent on .*, limit 10\.00 GBP/);
    const log = await db.pool.query(
      "SELECT metadata FROM ops.logs WHERE event_type = 'cost_limit_reached' AND organization_id = $1", [t.orgId]);
    expect(log.rows).toHaveLength(1);
    expect(log.rows[0].metadata).toMatchObject({ blocked_items: 3 });

    // Work queued while the limit is reached starts blocked; nothing of this organization is handed out.
    await db.pool.query(`INSERT INTO app.episode_schedule_queue (organization_id, project_id, scheduled_for) VALUES ($1, $2, now() - interval '10 seconds')`,
      [t.orgId, t.projectId]);
    expect((await queueStates(t.orgId)).map((r) => r.status)).toEqual(['blocked', 'blocked', 'blocked', 'blocked']);
    const claim = await db.pool.query('SELECT count(*)::int AS n FROM app.claim_queue_items($1, 100) WHERE organization_id = $2', ['w', t.orgId]);
    expect(claim.rows[0].n).toBe(0);

    // Same day: the release job keeps them blocked.
    const sameDay = await db.pool.query('SELECT ops.job_release_cost_blocks() AS r');
    expect(sameDay.rows[0].r).toMatchObject({ status: 'completed', rows_affected: 0 });

    // Midnight UTC: today's spend becomes yesterday's (what the calendar does to the roll-up row).
    await db.pool.query('UPDATE app.token_usage_daily SET usage_date = usage_date - 1 WHERE organization_id = $1', [t.orgId]);
    const nextDay = await db.pool.query('SELECT ops.job_release_cost_blocks() AS r');
    expect(nextDay.rows[0].r).toMatchObject({ status: 'completed', rows_affected: 4 });
    expect((await queueStates(t.orgId)).map((r) => r.status)).toEqual(['pending', 'pending', 'pending', 'pending']);
    const again = await db.pool.query('SELECT count(*)::int AS n FROM app.claim_queue_items($1, 100) WHERE organization_id = $2', ['w', t.orgId]);
    expect(again.rows[0].n).toBe(4);
  });

  it('under 16 concurrent writers it trips exactly once', async () => {
    const t = await tenant(db.pool, { dailyCostLimit: 1 });
    await db.pool.query(`INSERT INTO app.episode_schedule_queue (organization_id, project_id, scheduled_for) VALUES ($1, $2, now() + interval '1 day')`,
      [t.orgId, t.projectId]);
    await Promise.all(Array.from({ length: 16 }, async () => {
      const c = new pg.Client({ connectionString: writerUrl });
      await c.connect();
      try {
        for (let i = 0; i < 10; i++) {
          await c.query('BEGIN');
          await setContext(c, t.orgId, t.userId);
          await c.query(`${INSERT} VALUES ($1, now(), 'chat', 'm', 1, 1, 0.01)`, [t.orgId]);
          await c.query('COMMIT');
        }
      } finally {
        await c.end();
      }
    }));
    const d = await db.pool.query('SELECT total_cost_gbp::text FROM app.token_usage_daily WHERE organization_id = $1', [t.orgId]);
    expect(d.rows[0].total_cost_gbp).toBe('1.600000');
    const trips = await db.pool.query("SELECT count(*)::int AS n FROM ops.logs WHERE event_type = 'cost_limit_reached' AND organization_id = $1", [t.orgId]);
    expect(trips.rows[0].n).toBe(1);
    expect((await queueStates(t.orgId)).map((r) => r.status)).toEqual(['blocked']);
  });
});
