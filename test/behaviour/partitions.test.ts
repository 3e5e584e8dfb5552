// Partitions, retention and scheduled jobs (sql/0700, 0710, 0790) against real PostgreSQL with the pg_partman of
// the chosen major (PGKIT_PG_MAJOR, src/config.ts): 4.7 on 15 (Debian 12), 5.2 on 17 (Debian 13's packages):
// rows dated months apart land in their monthly partitions, retention drops exactly the expired partitions,
// a row outside the premade range lands in the DEFAULT partition and is reported; the 5.x create_parent call
// binds to 5.x's signature; jobs are registered with pg_cron in the cron database and say why not elsewhere.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_MAJOR } from '../../src/config.js';
import { migratedDatabase, type TestDb } from '../support/db.js';
import { adminUrl, testStack } from '../support/stack.js';

let db: TestDb;

beforeAll(async () => {
  db = await migratedDatabase();
});
afterAll(async () => {
  await db?.drop();
});

/** The pg_partman each local target installs (scripts/setup.sh). */
const PARTMAN = PG_MAJOR === 15 ? { label: '4.7', major: 4, version: /^4\.7\./ } : { label: '5.2', major: 5, version: /^5\.2\./ };

/** The partition partman names for the month holding `at` (4.7: _pYYYY_MM, 5.x: _pYYYYMMDD; one place: sql/definitions). */
const partitionName = async (parent: string, at: string) =>
  (await db.pool.query<{ n: string }>('SELECT ops.monthly_partition_name($1, $2::timestamptz) AS n', [parent, at])).rows[0].n;

const partitionsOf = async (parent: string) =>
  (await db.pool.query<{ name: string; bound: string }>(
    `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
     FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass ORDER BY 1`, [parent])).rows;

/** First day (UTC) of the month `offset` months from the database's current month. */
const monthStart = async (offset: number): Promise<string> =>
  (await db.pool.query<{ d: string }>(
    `SELECT to_char(date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => $1), 'YYYY-MM-DD') AS d`, [offset])).rows[0].d;

describe('pg_partman manages the append-only tables', () => {
  it(`every policy table is registered with the target's pg_partman (4.7 on 15, 5.2 on 17), premade ahead, with its DEFAULT partition and retention`, async () => {
    const v = await db.pool.query("SELECT extversion FROM pg_extension WHERE extname = 'pg_partman'");
    expect(v.rows[0].extversion).toMatch(PARTMAN.version);
    const cfg = await db.pool.query(
      `SELECT p.parent_table, c.retention, c.premake, c.retention_keep_table, c.infinite_time_partitions, c.partition_interval
       FROM ops.partition_policies p JOIN partman.part_config c USING (parent_table) ORDER BY 1`);
    expect(cfg.rows).toEqual([
      { parent_table: 'app.engagement_events', retention: '180 days', premake: 4, retention_keep_table: false, infinite_time_partitions: true, partition_interval: '1 mon' },
      { parent_table: 'app.token_usage', retention: '400 days', premake: 4, retention_keep_table: false, infinite_time_partitions: true, partition_interval: '1 mon' },
      { parent_table: 'app.user_events', retention: '400 days', premake: 4, retention_keep_table: false, infinite_time_partitions: true, partition_interval: '1 mon' },
      { parent_table: 'audit.audit_logs', retention: null, premake: 4, retention_keep_table: false, infinite_time_partitions: true, partition_interval: '1 mon' },
      { parent_table: 'ops.logs', retention: '30 days', premake: 4, retention_keep_table: false, infinite_time_partitions: true, partition_interval: '1 mon' },
    ]);
    const names = (await partitionsOf('app.token_usage')).map((p) => p.name);
    const ahead = await monthStart(4);
    expect(names).toContain('token_usage_default');
    expect(names).toContain(await partitionName('app.token_usage', `${ahead} 00:00:00+00`));
    expect(names.length).toBe(1 + 1 + 4); // DEFAULT, this month, premake 4 ahead
  });

  it('rows dated months apart land in their monthly partitions; retention drops exactly the expired ones', async () => {
    // Partitions for the last 5 months of ops.logs (as if the table had lived that long), one row in each
    // month from 5 months ago to 2 months ahead, plus today.
    const past = await Promise.all([1, 2, 3, 4, 5].map((m) => monthStart(-m)));
    await db.pool.query('SELECT partman.create_partition_time($1, $2::timestamptz[])', ['ops.logs', past.map((d) => `${d} 00:00:00+00`)]);
    const rowsAt: Record<string, string> = {};
    const nameOf: Record<string, string> = {};
    for (const m of [-5, -4, -3, -2, -1, 0, 1, 2]) {
      const d = await monthStart(m);
      const at = `${d.slice(0, 8)}15 12:00:00+00`;
      const { rows } = await db.pool.query<{ part: string }>(
        `INSERT INTO ops.logs (created_at, level, event_type, message) VALUES ($1, 'info', 'api_call_started', $2) RETURNING tableoid::regclass::text AS part`,
        [at, `row of ${d}`]);
      rowsAt[d] = rows[0].part;
      nameOf[d] = await partitionName('ops.logs', at);
    }
    for (const [d, part] of Object.entries(rowsAt)) expect(part).toBe(`ops.${nameOf[d]}`);

    // Expected: a monthly partition expires when its whole month ended more than 30 days ago, read from its
    // bounds (not its name, which differs by partman major).
    const before = (await partitionsOf('ops.logs')).map((p) => p.name);
    const expired = (await db.pool.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'ops.logs'::regclass AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
         AND substring(pg_get_expr(c.relpartbound, c.oid) from 'TO \\(''([^'']+)''\\)')::timestamptz < now() - interval '30 days'
       ORDER BY 1`)).rows.map((r) => r.name);
    expect(expired.length).toBeGreaterThanOrEqual(4); // at least months -5 .. -2

    const job = await db.pool.query('SELECT ops.job_partition_maintenance() AS r');
    expect(job.rows[0].r).toMatchObject({ status: 'completed', partman_version: PARTMAN.major });
    expect([...job.rows[0].r.dropped].sort()).toEqual(expired.map((n) => `ops.${n}`));

    // What is left: the partitions before, minus exactly the expired ones, plus what premake added.
    const created = (job.rows[0].r.created as string[]).filter((n) => n.startsWith('ops.logs_')).map((n) => n.slice(4));
    const after = (await partitionsOf('ops.logs')).map((p) => p.name);
    expect(after.sort()).toEqual([...before.filter((n) => !expired.includes(n)), ...created].sort());
    // The rows of the kept months are still there; the dropped months' rows are gone with their partitions.
    const left = await db.pool.query<{ m: string }>(
      "SELECT to_char(created_at, 'YYYY-MM') AS m FROM ops.logs WHERE event_type = 'api_call_started' ORDER BY 1");
    const keptMonths = Object.keys(rowsAt).filter((d) => !expired.includes(nameOf[d])).map((d) => d.slice(0, 7));
    expect(left.rows.map((r) => r.m)).toEqual(keptMonths.sort());
    // The tables with longer retention kept everything.
    expect(job.rows[0].r.dropped.filter((n: string) => !n.startsWith('ops.logs_'))).toEqual([]);
  });

  it('a row outside the premade range lands in the DEFAULT partition and the maintenance job reports it', async () => {
    const far = await monthStart(30);
    const { rows } = await db.pool.query<{ part: string }>(
      `WITH o AS (INSERT INTO app.organizations (name, slug) VALUES ('Far', 'far-future') RETURNING id),
            u AS (INSERT INTO app.users (email) VALUES ('far@example.com') RETURNING id)
       INSERT INTO app.user_events (created_at, organization_id, user_id, event_type)
       SELECT $1::timestamptz, o.id, u.id, 'test.far_future' FROM o, u
       RETURNING tableoid::regclass::text AS part`, [`${far} 00:00:00+00`]);
    expect(rows[0].part).toBe('app.user_events_default');

    const job = await db.pool.query('SELECT ops.job_partition_maintenance() AS r');
    expect(job.rows[0].r.default_rows).toEqual({ 'app.user_events_default': 1 });
    expect(job.rows[0].r.table_errors).toEqual({}); // the stray row does not break premake (ignore_default_data)
    const log = await db.pool.query(
      "SELECT level::text, metadata FROM ops.logs WHERE event_type = 'partition_default_rows' AND metadata->>'job_id' = $1", [job.rows[0].r.job_id]);
    expect(log.rows).toEqual([{ level: 'warn', metadata: expect.objectContaining({ default_table: 'app.user_events_default', rows: 1 }) }]);
    // partman's own check agrees.
    const check = await db.pool.query("SELECT default_table, count FROM partman.check_default(p_exact_count := true) WHERE count > 0");
    expect(check.rows).toEqual([{ default_table: 'app.user_events_default', count: '1' }]);
  });
});

describe('create_parent for pg_partman 4.x and 5.x', () => {
  it('writes named-argument calls: 4.x with p_type native, 5.x with p_type range and p_default_table', async () => {
    const gen = async (major: number) =>
      (await db.pool.query<{ s: string }>("SELECT ops.partman_create_parent_sql('ops.logs', 'created_at', 4, '2026-01-01 00:00:00+00', $1) AS s", [major])).rows[0].s;
    expect(await gen(4)).toBe(
      "SELECT partman.create_parent(p_parent_table := 'ops.logs', p_control := 'created_at', p_interval := '1 month', p_premake := 4, p_start_partition := '2026-01-01 00:00:00+00', p_type := 'native')");
    expect(await gen(5)).toBe(
      "SELECT partman.create_parent(p_parent_table := 'ops.logs', p_control := 'created_at', p_interval := '1 month', p_premake := 4, p_start_partition := '2026-01-01 00:00:00+00', p_type := 'range', p_default_table := true)");
    await expect(gen(3)).rejects.toMatchObject({ code: '0A000' });
  });

  it('the 5.x call binds to pg_partman 5.x\'s create_parent signature (argument names, order, defaults)', async () => {
    // pg_partman 5 is not installable here (Debian 12 ships 4.7), so its create_parent signature — copied
    // from pg_partman 5.0's sql/functions/create_parent.sql — is declared in a scratch schema; PostgreSQL
    // itself resolves the generated call against it and the function records what it received.
    const c = await db.pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('CREATE SCHEMA partman5');
      await c.query(`
        CREATE FUNCTION partman5.create_parent(
          p_parent_table text, p_control text, p_interval text, p_type text DEFAULT 'range', p_epoch text DEFAULT 'none',
          p_premake int DEFAULT 4, p_start_partition text DEFAULT NULL, p_default_table boolean DEFAULT true,
          p_automatic_maintenance text DEFAULT 'on', p_constraint_cols text[] DEFAULT NULL, p_template_table text DEFAULT NULL,
          p_jobmon boolean DEFAULT true, p_date_trunc_interval text DEFAULT NULL)
        RETURNS boolean LANGUAGE plpgsql AS $$
        BEGIN
          CREATE TEMP TABLE IF NOT EXISTS received (args jsonb);
          INSERT INTO received VALUES (jsonb_build_object('parent', p_parent_table, 'control', p_control, 'interval', p_interval,
            'type', p_type, 'premake', p_premake, 'start', p_start_partition, 'default_table', p_default_table, 'epoch', p_epoch));
          RETURN true;
        END $$`);
      const call = (await c.query<{ s: string }>(
        "SELECT ops.partman_create_parent_sql('app.token_usage', 'created_at', 6, '2026-02-01 00:00:00+00', 5, 'partman5') AS s")).rows[0].s;
      await c.query(call);
      const got = await c.query('SELECT args FROM received');
      expect(got.rows[0].args).toEqual({
        parent: 'app.token_usage', control: 'created_at', interval: '1 month', type: 'range', premake: 6,
        start: '2026-02-01 00:00:00+00', default_table: true, epoch: 'none',
      });
      // And the 4.x call would not bind to 5.x (4.x's p_type 'native' is rejected by 5.x itself, not by
      // binding, so the generator must pick by version): the installed 4.7 rejects 5.x's p_default_table.
      const call5on4 = (await c.query<{ s: string }>(
        "SELECT ops.partman_create_parent_sql('app.token_usage', 'created_at', 6, '2026-02-01 00:00:00+00', 5, 'partman') AS s")).rows[0].s;
      if (PG_MAJOR === 15) {
        await c.query('SAVEPOINT s');
        await expect(c.query(call5on4)).rejects.toMatchObject({ code: '42883' }); // no such function signature
        await c.query('ROLLBACK TO SAVEPOINT s');
      } // On 17 the installed partman is 5.x: the bundle itself ran this call for every policy table (test above).
    } finally {
      await c.query('ROLLBACK');
      c.release();
    }
  });
});

describe('scheduled jobs', () => {
  it('in a database where pg_cron cannot run, the bundle records that the jobs are not scheduled and why', async () => {
    const r = await db.pool.query('SELECT database_name, scheduled, reason FROM ops.job_schedule_status');
    expect(r.rows).toEqual([{
      database_name: expect.stringMatching(/^pgkit_tpl_/), // recorded when the template was migrated
      scheduled: false,
      reason: expect.stringContaining(`pg_cron runs in database ${testStack.database} (cron.database_name)`),
    }]);
    const ext = await db.pool.query("SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'pg_cron'");
    expect(ext.rows[0].n).toBe(0);
  });

  it(`in the cron database (${testStack.database}) every job is registered with pg_cron, active, with its schedule and command`, async () => {
    const c = new pg.Client({ connectionString: adminUrl(testStack.database) });
    await c.connect();
    try {
      const want = await c.query('SELECT jobname, schedule, command FROM ops.job_definitions() ORDER BY 1');
      expect(want.rows.length).toBe(13);
      const got = await c.query(
        `SELECT j.jobname, j.schedule, j.command FROM cron.job j
         WHERE j.database = current_database() AND j.active AND j.jobname IN (SELECT jobname FROM ops.job_definitions()) ORDER BY 1`);
      expect(got.rows).toEqual(want.rows);
      const status = await c.query('SELECT scheduled, jsonb_array_length(jobs) AS n FROM ops.job_schedule_status WHERE database_name = current_database()');
      expect(status.rows).toEqual([{ scheduled: true, n: 13 }]);
    } finally {
      await c.end();
    }
  });

  it('a job logs start, end and rows affected; a failing job logs the error and rolls its work back', async () => {
    const ok = await db.pool.query('SELECT ops.job_reset_weekly_limits() AS r');
    const okId = ok.rows[0].r.job_id;
    const okLogs = await db.pool.query(
      "SELECT event_type, level::text FROM ops.logs WHERE metadata->>'job_id' = $1 ORDER BY created_at, event_type DESC", [okId]);
    expect(okLogs.rows).toEqual([{ event_type: 'job_started', level: 'info' }, { event_type: 'job_completed', level: 'info' }]);
    expect(ok.rows[0].r).toMatchObject({ status: 'completed', rows_affected: expect.any(Number), window: expect.any(Object) });

    const bad = await db.pool.query('SELECT ops.job_reset_weekly_limits(now(), 0) AS r');
    expect(bad.rows[0].r).toMatchObject({ status: 'failed', sqlstate: '22023' });
    const badLogs = await db.pool.query(
      "SELECT event_type, level::text, metadata->>'error' AS error FROM ops.logs WHERE metadata->>'job_id' = $1 ORDER BY created_at, event_type DESC",
      [bad.rows[0].r.job_id]);
    expect(badLogs.rows).toEqual([
      { event_type: 'job_started', level: 'info', error: null },
      { event_type: 'job_failed', level: 'error', error: 'reset_weekly_limits: batch must be >= 1, got 0' },
    ]);
  });
});
