// Trigger overhead benchmark: insert throughput into app.token_usage with the daily roll-up trigger
// (sql/0620, token_usage_roll_up) versus without it, in one run, printed as a ratio (goal: >= 0.5).
//
//   npx tsx scripts/bench-trigger-overhead.ts [--stack local|test] [--admin-url URL] [--rows N] [--rounds R]
//
// It never touches an existing database: it creates a scratch database on the server (default: the local
// stack, which must be running), applies sql/ to it, measures, and drops it. "Without" = the same table
// with that one trigger disabled (ALTER TABLE ... DISABLE TRIGGER, in the scratch database only); every
// other trigger, index and foreign key stays. Phases alternate over several rounds so drift of the machine
// affects both sides alike. Two shapes: one row per statement (autocommit, the workload service's shape)
// the same inside one transaction (no per-row commit flush: the trigger's CPU cost alone), and 100 rows per
// statement (a batch; the statement-level trigger runs once per statement).
// Prints figures only; it asserts nothing.
import { parseArgs } from 'node:util';
import pg from 'pg';
import { stackConfig, type StackName } from '../src/config.js';
import { connectionStrings, stackSecrets } from '../src/local/stack.js';
import { applyMigrations } from '../src/migrate/index.js';
import { fail } from './lib/fail.js';

const { values } = parseArgs({
  options: {
    stack: { type: 'string', default: 'local' },
    'admin-url': { type: 'string' },
    rows: { type: 'string', default: '3000' },
    rounds: { type: 'string', default: '3' },
  },
});

async function main() {
  const rows = Number(values.rows);
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rows) || rows < 100 || !Number.isInteger(rounds) || rounds < 1) throw new Error('--rows >= 100 and --rounds >= 1, integers');
  const adminBase = values['admin-url'] ?? (() => {
    const cfg = stackConfig(values.stack as StackName);
    return connectionStrings(cfg, stackSecrets(cfg), 'postgres').adminDirect;
  })();
  const dbName = `pgkit_bench_${process.pid}`;
  const url = (db: string) => {
    const u = new URL(adminBase);
    u.pathname = `/${db}`;
    return u.toString();
  };

  const admin = new pg.Client({ connectionString: url('postgres') });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(dbName)}`);
  try {
    console.log(`[bench] scratch database ${dbName}: applying sql/ ...`);
    await applyMigrations({ connectionString: url(dbName) });
    const c = new pg.Client({ connectionString: url(dbName) });
    await c.connect();
    try {
      const org = (await c.query(
        "INSERT INTO app.organizations (name, slug, daily_cost_limit) VALUES ('Bench', 'bench', 9999999999) RETURNING id")).rows[0].id as string;
      const insertOne = `INSERT INTO app.token_usage (organization_id, operation, model_used, input_tokens, output_tokens, cost_gbp)
                         VALUES ($1, 'chat', 'bench-model', 120, 40, 0.001234)`;
      const batchValues = Array.from({ length: 100 }, (_, i) =>
        `($1, '${['chat', 'episode_generation', 'embedding'][i % 3]}', 'bench-model', ${100 + i}, 40, 0.001234)`).join(', ');
      const insertBatch = `INSERT INTO app.token_usage (organization_id, operation, model_used, input_tokens, output_tokens, cost_gbp) VALUES ${batchValues}`;

      const setTrigger = (on: boolean) =>
        c.query(`ALTER TABLE app.token_usage ${on ? 'ENABLE' : 'DISABLE'} TRIGGER token_usage_roll_up`);
      type Shape = 'single' | 'singleTx' | 'batch';
      const measure = async (shape: Shape): Promise<number> => {
        const start = performance.now();
        if (shape === 'single') for (let i = 0; i < rows; i++) await c.query(insertOne, [org]);
        else if (shape === 'singleTx') {
          await c.query('BEGIN');
          for (let i = 0; i < rows; i++) await c.query(insertOne, [org]);
          await c.query('COMMIT');
        } else for (let i = 0; i < rows / 100; i++) await c.query(insertBatch, [org]);
        return rows / ((performance.now() - start) / 1000);
      };

      // Warm-up (plans, caches, the roll-up row exists).
      await setTrigger(true);
      for (let i = 0; i < 200; i++) await c.query(insertOne, [org]);
      await c.query(insertBatch, [org]);

      const SHAPES: Shape[] = ['single', 'singleTx', 'batch'];
      const results = Object.fromEntries(SHAPES.map((s) => [s, { with: [] as number[], without: [] as number[] }])) as Record<Shape, { with: number[]; without: number[] }>;
      for (let r = 0; r < rounds; r++) {
        for (const shape of SHAPES) {
          const order = r % 2 === 0 ? [true, false] : [false, true];
          for (const on of order) {
            await setTrigger(on);
            results[shape][on ? 'with' : 'without'].push(await measure(shape));
          }
        }
      }
      await setTrigger(true);

      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      console.log(`[bench] token_usage inserts, ${rows} rows per phase, ${rounds} rounds, median rows/s (one connection, direct):`);
      const LABELS: Record<Shape, string> = {
        single: '1 row/statement, autocommit        ',
        singleTx: '1 row/statement, one transaction   ',
        batch: '100 rows/statement, autocommit     ',
      };
      for (const shape of SHAPES) {
        const w = median(results[shape].with);
        const wo = median(results[shape].without);
        const label = LABELS[shape];
        console.log(`[bench]   ${label}: with trigger ${w.toFixed(0)} rows/s, without ${wo.toFixed(0)} rows/s, ratio ${(w / wo).toFixed(2)}`);
      }
      const ratio = median(results.single.with) / median(results.single.without);
      console.log(`[bench] TRIGGER OVERHEAD RATIO (1 row/statement autocommit, with/without): ${ratio.toFixed(2)} (goal >= 0.50: ${ratio >= 0.5 ? 'met' : 'NOT met'})`);
      console.log('[bench] (autocommit includes the commit flush every insert pays; "one transaction" shows the trigger\'s CPU cost alone)');
      // The roll-up agrees with the rows inserted while the trigger was on (a sanity line, not a test).
      const check = await c.query(
        `SELECT d.call_count AS rolled_up, (SELECT count(*) FROM app.token_usage)::int AS inserted FROM app.token_usage_daily d WHERE d.organization_id = $1`, [org]);
      console.log(`[bench] roll-up counted ${check.rows[0]?.rolled_up ?? 0} of ${check.rows[0]?.inserted ?? 0} rows (the rest were inserted with the trigger disabled)`);
    } finally {
      await c.end();
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(dbName)} WITH (FORCE)`);
    await admin.end();
  }
}

main().catch(fail);
