// Per-call cost of the authenticated request context (issue 16, sql/0930): app.authenticate_context($1),
// app.current_org_id() and app.current_user_id() against SELECT 1, in one run, printed as milliseconds and as
// ratios to SELECT 1.
//
//   npm run bench:context -- [--stack local|test] [--calls N] [--rounds R]
//
// It never touches an existing database: it creates a scratch database on the stack's server (which must be
// running), applies sql/ as the admin, registers the stack's context keys, adds one organization with one member,
// measures on one direct connection of the app login, and drops the database. Two views of each call:
//   round trip  one statement per call from the client (what a request pays per statement);
//   in server   N calls inside one statement (generate_series), divided by N: the function alone, no network.
// Rounds alternate the order of the operations so drift of a shared machine affects them alike; medians.
// Prints figures only; it asserts nothing.
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { stackConfig, type StackName } from '../src/config.js';
import { AUTHENTICATE_SQL } from '../src/db/context.js';
import { connectionStrings, ensureContextKeys, stackSecrets, stackSigner } from '../src/local/stack.js';
import { applyMigrations } from '../src/migrate/index.js';
import { fail } from './lib/fail.js';

const { values } = parseArgs({
  options: {
    stack: { type: 'string', default: 'local' },
    calls: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '3' },
  },
});

type Op = 'select 1' | 'authenticate_context' | 'current_org_id' | 'current_user_id';
const OPS: Op[] = ['select 1', 'authenticate_context', 'current_org_id', 'current_user_id'];
/** One call per statement ($1: the token, for authenticate_context only). */
const ROUND_TRIP: Record<Op, string> = {
  'select 1': 'SELECT 1',
  authenticate_context: AUTHENTICATE_SQL,
  current_org_id: 'SELECT app.current_org_id()',
  current_user_id: 'SELECT app.current_user_id()',
};
/** $1 calls in one statement (a volatile-free target list is evaluated per row: no caching across rows). */
const IN_SERVER: Record<Op, string> = {
  'select 1': 'SELECT count(1) FROM generate_series(1, $1::int) g',
  authenticate_context: 'SELECT count(app.authenticate_context($2)) FROM generate_series(1, $1::int) g',
  current_org_id: 'SELECT count(app.current_org_id()) FROM generate_series(1, $1::int) g',
  current_user_id: 'SELECT count(app.current_user_id()) FROM generate_series(1, $1::int) g',
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const calls = Number(values.calls);
  const rounds = Number(values.rounds);
  if (!Number.isInteger(calls) || calls < 100 || !Number.isInteger(rounds) || rounds < 1) {
    throw new Error('--calls must be an integer >= 100 and --rounds an integer >= 1');
  }
  const cfg = stackConfig(values.stack as StackName);
  const secrets = stackSecrets(cfg);
  const dbName = `pgkit_bench_ctx_${process.pid}`;
  const admin = new pg.Client({ connectionString: connectionStrings(cfg, secrets, 'postgres').adminDirect });
  await admin.connect().catch((e: Error) => {
    throw new Error(`cannot reach the ${cfg.name} stack's PostgreSQL (${e.message}): start it first (npm start${cfg.name === 'local' ? '' : `, PGKIT_STACK=${cfg.name}`})`);
  });
  await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(dbName)}`);
  try {
    console.log(`[bench:context] scratch database ${dbName}: applying sql/ ...`);
    const urls = connectionStrings(cfg, secrets, dbName);
    await applyMigrations({ connectionString: urls.adminDirect });
    await ensureContextKeys(cfg, secrets, dbName);
    const org = randomUUID();
    const user = randomUUID();
    const setup = new pg.Client({ connectionString: urls.adminDirect });
    await setup.connect();
    try {
      await setup.query("INSERT INTO app.organizations (id, name, slug) VALUES ($1, 'Bench', 'bench-context')", [org]);
      await setup.query("INSERT INTO app.users (id, email) VALUES ($1, 'bench-context@example.com')", [user]);
      await setup.query("INSERT INTO app.memberships (organization_id, user_id, role) VALUES ($1, $2, 'owner')", [org, user]);
    } finally {
      await setup.end();
    }
    const token = stackSigner(secrets).user(org, user, 3600).token;

    const app = new pg.Client({ connectionString: urls.appDirect });
    await app.connect();
    try {
      // Each phase runs in one transaction with the context authenticated, as a request's statements do.
      const phase = async (op: Op, inServer: boolean): Promise<number> => {
        await app.query('BEGIN');
        await app.query(AUTHENTICATE_SQL, [token]);
        const start = performance.now();
        if (inServer) await app.query(IN_SERVER[op], op === 'authenticate_context' ? [calls, token] : [calls]);
        else for (let i = 0; i < calls; i++) await app.query(ROUND_TRIP[op], op === 'authenticate_context' ? [token] : []);
        const ms = (performance.now() - start) / calls;
        // A sanity check that the context held (the figures would mean nothing on a NULL context).
        const ok = (await app.query<{ ok: boolean }>('SELECT app.current_org_id() = $1::uuid AND app.current_user_id() = $2::uuid AS ok', [org, user])).rows[0].ok;
        await app.query('COMMIT');
        if (!ok) throw new Error('the context did not verify in the scratch database: are the stack\'s context keys registered?');
        return ms;
      };
      for (const op of OPS) { await phase(op, false); await phase(op, true); } // warm-up: plans and caches
      const results = Object.fromEntries(OPS.map((o) => [o, { rt: [] as number[], srv: [] as number[] }])) as Record<Op, { rt: number[]; srv: number[] }>;
      for (let r = 0; r < rounds; r++) {
        for (const op of r % 2 === 0 ? OPS : [...OPS].reverse()) {
          results[op].rt.push(await phase(op, false));
          results[op].srv.push(await phase(op, true));
        }
      }
      const base = { rt: median(results['select 1'].rt), srv: median(results['select 1'].srv) };
      const version = (await app.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0].v;
      console.log(`[bench:context] ${new Date().toISOString().slice(0, 10)}, PostgreSQL ${version}, ${cfg.name} stack, one direct app-login connection, ${calls} calls per phase, ${rounds} rounds, medians:`);
      console.log('[bench:context]   call                      round trip (ms)  x SELECT 1   in server (us)  x SELECT 1');
      for (const op of OPS) {
        const rt = median(results[op].rt);
        const srv = median(results[op].srv);
        console.log(`[bench:context]   ${op.padEnd(24)}  ${rt.toFixed(3).padStart(15)}  ${(rt / base.rt).toFixed(2).padStart(10)}  ${(srv * 1000).toFixed(2).padStart(14)}  ${(srv / base.srv).toFixed(1).padStart(10)}`);
      }
      console.log('[bench:context] (round trip: one statement per call; in server: calls inside one statement, no network)');
    } finally {
      await app.end();
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(dbName)} WITH (FORCE)`);
    await admin.end();
  }
}

main().catch(fail);
