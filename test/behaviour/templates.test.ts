// Issue 17 #4 (seed 002 #5b, Week 1, Month 1) and #8 (template policies exercised): a lookup records the use of
// what it returned (app.record_template_use, folded into usage_count/last_used_at by ops.job_fold_template_use), the
// Month 1 job disables old templates with fewer than 5 uses, `npm run seed:templates` inserts the initial set, and
// the app's read policy on templates shows a signed-in user the enabled, live ones only.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withContext } from '../../src/db/context.js';
import { INITIAL_TEMPLATES, seedTemplates } from '../../src/seed/templates.js';
import { migratedDatabase, type TestDb } from '../support/db.js';
import { tenant, tx, type Tenant } from './helpers.js';
import { asUser as signedAs } from '../support/context.js';

let db: TestDb;
let app: pg.Pool;
let t: Tenant;
const ids = { live: randomUUID(), popular: randomUUID(), disabled: randomUUID(), deleted: randomUUID() };
const FOCUS = 'market';

async function template(id: string, code: string, o: { enabled?: boolean; deleted?: boolean; ageDays?: number; uses?: number; focus?: string } = {}) {
  await db.pool.query(
    `INSERT INTO app.question_templates (id, code, focus, depth, template, enabled, created_at, deleted_at, usage_count, last_used_at)
     VALUES ($1, $2, $3, 'surface', 'Q {topic}?', $4, now() - make_interval(days => $5), CASE WHEN $6::boolean THEN now() END, $7, CASE WHEN $7 > 0 THEN now() END)`,
    [id, code, o.focus ?? FOCUS, o.enabled ?? true, o.ageDays ?? 0, o.deleted ?? false, o.uses ?? 0],
  );
}
const usage = async (id: string) =>
  (await db.pool.query('SELECT usage_count AS n, last_used_at IS NOT NULL AS used, enabled FROM app.question_templates WHERE id = $1', [id])).rows[0];
const asUser = <T>(fn: (tx: pg.PoolClient) => Promise<T>, userId: string | null = t.userId) =>
  (userId ? withContext(app, signedAs(t.orgId, userId), fn as never) : tx(app, null, fn as never)) as Promise<T>;

beforeAll(async () => {
  db = await migratedDatabase();
  app = new pg.Pool({ connectionString: db.appPooledUrl, max: 8 });
  t = await tenant(db.pool);
  await template(ids.live, 'tpl_live');
  await template(ids.popular, 'tpl_popular', { uses: 3 });
  await template(ids.disabled, 'tpl_disabled', { enabled: false });
  await template(ids.deleted, 'tpl_deleted', { deleted: true });
});
afterAll(async () => {
  await app?.end();
  await db?.drop();
});

describe('question template read policy (issue 17 #8)', () => {
  const lookup = (userId: string | null) =>
    asUser(async (tx) => (await tx.query<{ code: string }>('SELECT code FROM app.question_templates WHERE id = ANY($1::uuid[]) ORDER BY code', [Object.values(ids)])).rows.map((r) => r.code), userId);

  it('a signed-in user sees the enabled, live templates only: not a disabled one, not a deleted one', async () => {
    expect(await lookup(t.userId)).toEqual(['tpl_live', 'tpl_popular']);
  });

  it('a template disabled or deleted later disappears at once, and comes back when enabled again', async () => {
    await db.pool.query('UPDATE app.question_templates SET enabled = false WHERE id = $1', [ids.live]);
    expect(await lookup(t.userId)).toEqual(['tpl_popular']);
    await db.pool.query('UPDATE app.question_templates SET enabled = true WHERE id = $1', [ids.live]);
    expect(await lookup(t.userId)).toEqual(['tpl_live', 'tpl_popular']);
  });

  it('without a user, the app sees what the public catalogue shows (enabled, live) and cannot write a template', async () => {
    expect(await lookup(null)).toEqual(['tpl_live', 'tpl_popular']);
    const write = asUser((tx) => tx.query("UPDATE app.question_templates SET enabled = true WHERE id = $1", [ids.disabled]));
    await expect(write).rejects.toMatchObject({ code: '42501' });
  });
});

describe('template usage (issue 17 #4)', () => {
  it('a lookup records the use of the templates it may read; the fold job moves it into usage_count and last_used_at', async () => {
    const recorded = await asUser(async (tx) => (await tx.query('SELECT app.record_template_use($1::uuid[]) AS n', [Object.values(ids)])).rows[0].n);
    expect(recorded).toBe(2); // live and popular; disabled and deleted are ignored
    expect(await asUser(async (tx) => (await tx.query('SELECT app.record_template_use($1::uuid[]) AS n', [[ids.live]])).rows[0].n, null)).toBe(0); // no user: nothing
    expect(await usage(ids.live)).toMatchObject({ n: 0, used: false }); // batched: not yet
    const job = (await db.pool.query('SELECT ops.job_fold_template_use() AS r')).rows[0].r;
    expect(job).toMatchObject({ status: 'completed', rows_affected: 2 });
    expect(await usage(ids.live)).toMatchObject({ n: 1, used: true });
    expect(await usage(ids.popular)).toMatchObject({ n: 4, used: true });
    expect(await usage(ids.disabled)).toMatchObject({ n: 0, used: false });
    expect((await db.pool.query('SELECT count(*)::int AS n FROM app_private.template_use_deltas')).rows[0].n).toBe(0);
    // The service's "top templates" order now moves.
    const top = await asUser(async (tx) => (await tx.query("SELECT code FROM app.question_templates WHERE focus = $1 AND enabled AND deleted_at IS NULL ORDER BY usage_count DESC, id", [FOCUS])).rows.map((r) => r.code));
    expect(top).toEqual(['tpl_popular', 'tpl_live']);
  });

  it('refuses more than 100 ids per call, and the app cannot touch the pending uses directly', async () => {
    const many = Array.from({ length: 101 }, () => randomUUID());
    await expect(asUser((tx) => tx.query('SELECT app.record_template_use($1::uuid[])', [many]))).rejects.toMatchObject({ code: '22023' });
    await expect(asUser((tx) => tx.query('SELECT count(*) FROM app_private.template_use_deltas'))).rejects.toMatchObject({ code: '42501' });
  });

  it('the Month 1 job disables templates older than a month with fewer than 5 uses (pending uses counted), and keeps the rest', async () => {
    const old4 = randomUUID(), old5 = randomUUID(), oldPending = randomUUID(), young = randomUUID();
    await template(old4, 'tpl_old_four', { ageDays: 40, uses: 4, focus: 'goals' });
    await template(old5, 'tpl_old_five', { ageDays: 40, uses: 5, focus: 'goals' });
    await template(oldPending, 'tpl_old_pending', { ageDays: 40, uses: 4, focus: 'goals' });
    await template(young, 'tpl_young', { ageDays: 10, uses: 0, focus: 'goals' });
    await asUser((tx) => tx.query('SELECT app.record_template_use($1::uuid[])', [[oldPending]]));
    const r = (await db.pool.query("SELECT ops.job_disable_unused_templates() AS r")).rows[0].r;
    expect(r).toMatchObject({ status: 'completed', rows_affected: 1, disabled: ['tpl_old_four'] });
    expect((await usage(old4)).enabled).toBe(false);
    expect((await usage(old5)).enabled).toBe(true);
    expect(await usage(oldPending)).toMatchObject({ n: 5, enabled: true });
    expect((await usage(young)).enabled).toBe(true);
    const { rows } = await db.pool.query("SELECT schedule, command FROM ops.job_definitions() WHERE jobname IN ('pgkit_fold_template_use', 'pgkit_disable_unused_templates') ORDER BY jobname");
    expect(rows).toEqual([
      { schedule: '41 4 * * *', command: 'SELECT ops.job_disable_unused_templates()' },
      { schedule: '* * * * *', command: 'SELECT ops.job_fold_template_use()' },
    ]);
  });

  it('npm run seed:templates inserts the 20 initial templates once; a re-run keeps them as they are', async () => {
    const first = await seedTemplates(db.url);
    expect(first).toHaveLength(20);
    expect(new Set(INITIAL_TEMPLATES.map((x) => x.focus)).size).toBe(7);
    await db.pool.query("UPDATE app.question_templates SET enabled = false WHERE code = 'goals_surface_outcome'");
    expect(await seedTemplates(db.url)).toEqual([]);
    const { rows } = await db.pool.query("SELECT count(*)::int AS n, count(*) FILTER (WHERE NOT enabled)::int AS off FROM app.question_templates WHERE code = ANY($1)", [INITIAL_TEMPLATES.map((x) => x.code)]);
    expect(rows[0]).toEqual({ n: 20, off: 1 });
  });

  it('recording the use costs the lookup little: p95 of lookup alone, with the batched record, with a direct UPDATE (measured, printed)', async () => {
    // A test-only direct counter, for comparison: what recording would cost without the batching.
    await db.pool.query(`CREATE FUNCTION public.t17_direct_use(p uuid[]) RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS
      $$ UPDATE app.question_templates t SET usage_count = t.usage_count + 1, last_used_at = now()
         FROM (SELECT id FROM app.question_templates WHERE id = ANY(p) ORDER BY id FOR UPDATE) l WHERE t.id = l.id $$;
      GRANT EXECUTE ON FUNCTION public.t17_direct_use(uuid[]) TO PUBLIC`);
    const LOOKUP = "SELECT id FROM app.question_templates WHERE focus = 'goals' AND enabled AND deleted_at IS NULL ORDER BY usage_count DESC, id LIMIT 10";
    const modes: Record<string, string | null> = { lookup: null, batched: 'SELECT app.record_template_use($1::uuid[])', direct: 'SELECT public.t17_direct_use($1::uuid[])' };
    const times: Record<string, number[]> = { lookup: [], batched: [], direct: [] };
    const ROUNDS = 10, CONCURRENCY = 8, PER = 5;
    for (let round = 0; round < ROUNDS; round++) {
      for (const [mode, record] of Object.entries(modes)) {
        await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
          for (let i = 0; i < PER; i++) {
            const start = performance.now();
            await asUser(async (tx) => {
              const found = (await tx.query<{ id: string }>(LOOKUP)).rows.map((r) => r.id);
              if (record) await tx.query(record, [found]);
            });
            times[mode].push(performance.now() - start);
          }
        }));
      }
    }
    const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)];
    const p = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, p95(v)]));
    console.log(`[templates] p95 over ${ROUNDS * CONCURRENCY * PER} lookups each, ${CONCURRENCY} concurrent, through PgBouncer: lookup ${p.lookup.toFixed(2)} ms, ` +
      `+ batched record ${p.batched.toFixed(2)} ms (x${(p.batched / p.lookup).toFixed(2)}), + direct UPDATE ${p.direct.toFixed(2)} ms (x${(p.direct / p.lookup).toFixed(2)})`);
    for (const v of Object.values(times)) expect(v).toHaveLength(ROUNDS * CONCURRENCY * PER);
    // Every batched use reached the pending table (none lost), each lookup returning the same 10 or fewer templates.
    const pending = (await db.pool.query('SELECT count(*)::int AS n FROM app_private.template_use_deltas')).rows[0].n;
    expect(pending).toBeGreaterThanOrEqual(ROUNDS * CONCURRENCY * PER);
  }, 120_000);
});
