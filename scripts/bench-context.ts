// Cost of the authenticated request context (issue 16, sql/0930): app.authenticate_context($1),
// app.current_org_id() and app.current_user_id() against SELECT 1, in one run, printed as milliseconds and as
// ratios to SELECT 1.
//
//   npm run bench:context -- [--stack local|test] [--calls N] [--rounds R] [--baseline-sql DIR]
//
// It never touches an existing database: it creates a scratch database on the stack's server (which must be
// running), applies sql/ as the admin, registers the stack's context keys, adds one organization with one member,
// measures on one direct connection of the app login, and drops the database. Three views:
//   per transaction  N transactions of BEGIN, the call(s), COMMIT: what a request pays (the first call in a
//                    transaction is the dear one: PL/pgSQL sets up its expressions again in every transaction);
//   round trip       N statements of one call each, inside one transaction;
//   in server        N calls inside one statement (generate_series), divided by N: the function alone, warm.
// --baseline-sql DIR applies another bundle (say, a checkout of an earlier commit's sql/) to a second scratch
// database and measures both in the same rounds, alternating, so a shared machine's drift affects them alike.
// Medians over the rounds. Prints figures only; it asserts nothing.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { stackConfig, type StackConfig, type StackName } from '../src/config.js';
import { AUTHENTICATE_SQL } from '../src/db/context.js';
import { connectionStrings, ensureContextKeys, stackSecrets, stackSigner } from '../src/local/stack.js';
import { applyMigrations } from '../src/migrate/index.js';
import { fail } from './lib/fail.js';

const { values } = parseArgs({
  options: {
    stack: { type: 'string', default: 'local' },
    calls: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '3' },
    'baseline-sql': { type: 'string' },
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

/**
 * Transactions as a request runs them, in pairs: the context's price is what the second of a pair costs on top
 * of the first (authenticate against SELECT 1; a query under row-level security with a verified context against
 * the same query with none, where the helpers return NULL at once).
 */
type TxKind = 'BEGIN; SELECT 1; COMMIT' | 'BEGIN; authenticate; COMMIT' | 'BEGIN; policy query, no context; COMMIT' | 'BEGIN; authenticate; policy query; COMMIT';
const TX_KINDS: TxKind[] = ['BEGIN; SELECT 1; COMMIT', 'BEGIN; authenticate; COMMIT', 'BEGIN; policy query, no context; COMMIT', 'BEGIN; authenticate; policy query; COMMIT'];
/** The transaction each kind is compared with. */
const TX_BASE: Partial<Record<TxKind, TxKind>> = {
  'BEGIN; authenticate; COMMIT': 'BEGIN; SELECT 1; COMMIT',
  'BEGIN; authenticate; policy query; COMMIT': 'BEGIN; policy query, no context; COMMIT',
};
/** A query under row-level security whose InitPlans call both helpers, as a read's policies do. */
const POLICY_QUERY = 'SELECT count(*) FROM app.projects';

type StackSecrets = ReturnType<typeof stackSecrets>;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** One scratch database with a bundle applied, one member, a token and an app-login connection. */
interface Subject {
  label: string;
  dbName: string;
  app: pg.Client;
  token: string;
  org: string;
  user: string;
}

async function prepare(cfg: StackConfig, secrets: StackSecrets, admin: pg.Client, label: string, sqlDir: string | undefined): Promise<Subject> {
  const dbName = `pgkit_bench_ctx_${process.pid}_${label}`;
  await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(dbName)}`);
  console.log(`[bench:context] scratch database ${dbName}: applying ${sqlDir ?? 'sql/'} ...`);
  const urls = connectionStrings(cfg, secrets, dbName);
  await applyMigrations({ connectionString: urls.adminDirect, ...(sqlDir ? { dir: sqlDir } : {}), log: () => {} });
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
  const app = new pg.Client({ connectionString: urls.appDirect });
  await app.connect();
  return { label, dbName, app, token: stackSigner(secrets).user(org, user, 3600).token, org, user };
}

async function main() {
  const calls = Number(values.calls);
  const rounds = Number(values.rounds);
  if (!Number.isInteger(calls) || calls < 100 || !Number.isInteger(rounds) || rounds < 1) {
    throw new Error('--calls must be an integer >= 100 and --rounds an integer >= 1');
  }
  const baselineDir = values['baseline-sql'] ? resolve(values['baseline-sql']) : undefined;
  if (baselineDir && !existsSync(baselineDir)) {
    throw new Error(`--baseline-sql ${baselineDir}: no such folder (give an sql/ folder, e.g. of "git worktree add /tmp/base <commit>")`);
  }
  const cfg = stackConfig(values.stack as StackName);
  const secrets = stackSecrets(cfg);
  const admin = new pg.Client({ connectionString: connectionStrings(cfg, secrets, 'postgres').adminDirect });
  await admin.connect().catch((e: Error) => {
    throw new Error(`cannot reach the ${cfg.name} stack's PostgreSQL (${e.message}): start it first (npm start${cfg.name === 'local' ? '' : `, PGKIT_STACK=${cfg.name}`})`);
  });
  const subjects: Subject[] = [];
  try {
    subjects.push(await prepare(cfg, secrets, admin, 'current', undefined));
    if (baselineDir) subjects.push(await prepare(cfg, secrets, admin, 'baseline', baselineDir));

    // The context must hold in each database, or the figures would measure a NULL context.
    const check = async (s: Subject) => {
      const ok = (await s.app.query<{ ok: boolean }>('SELECT app.current_org_id() = $1::uuid AND app.current_user_id() = $2::uuid AS ok', [s.org, s.user])).rows[0].ok;
      if (!ok) throw new Error(`the context did not verify in ${s.dbName}: are the stack's context keys registered?`);
    };
    // Each phase runs in one transaction with the context authenticated, as a request's statements do.
    const phase = async (s: Subject, op: Op, inServer: boolean): Promise<number> => {
      await s.app.query('BEGIN');
      await s.app.query(AUTHENTICATE_SQL, [s.token]);
      const start = performance.now();
      if (inServer) await s.app.query(IN_SERVER[op], op === 'authenticate_context' ? [calls, s.token] : [calls]);
      else for (let i = 0; i < calls; i++) await s.app.query(ROUND_TRIP[op], op === 'authenticate_context' ? [s.token] : []);
      const ms = (performance.now() - start) / calls;
      await check(s);
      await s.app.query('COMMIT');
      return ms;
    };
    const transactions = async (s: Subject, kind: TxKind): Promise<number> => {
      const start = performance.now();
      for (let i = 0; i < calls; i++) {
        await s.app.query('BEGIN');
        if (kind === 'BEGIN; SELECT 1; COMMIT') await s.app.query('SELECT 1');
        if (kind.includes('authenticate')) await s.app.query(AUTHENTICATE_SQL, [s.token]);
        if (kind.includes('policy query')) await s.app.query(POLICY_QUERY);
        await s.app.query('COMMIT');
      }
      return (performance.now() - start) / calls;
    };

    type Figures = { rt: number[]; srv: number[] };
    const perOp = new Map<string, Figures>();
    const perTx = new Map<string, number[]>();
    const key = (s: Subject, what: string) => `${s.label}/${what}`;
    for (const s of subjects) { // warm-up: plans and caches
      for (const op of OPS) { await phase(s, op, false); await phase(s, op, true); }
      for (const k of TX_KINDS) await transactions(s, k);
    }
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? subjects : [...subjects].reverse();
      for (const s of order) {
        for (const k of r % 2 === 0 ? TX_KINDS : [...TX_KINDS].reverse()) {
          const list = perTx.get(key(s, k)) ?? [];
          list.push(await transactions(s, k));
          perTx.set(key(s, k), list);
        }
        for (const op of r % 2 === 0 ? OPS : [...OPS].reverse()) {
          const f = perOp.get(key(s, op)) ?? { rt: [], srv: [] };
          f.rt.push(await phase(s, op, false));
          f.srv.push(await phase(s, op, true));
          perOp.set(key(s, op), f);
        }
      }
    }

    const version = (await subjects[0].app.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0].v;
    console.log(`[bench:context] ${new Date().toISOString().slice(0, 16)}Z, PostgreSQL ${version}, ${cfg.name} stack, one direct app-login connection per bundle, ${calls} per phase, ${rounds} rounds, medians:`);
    for (const s of subjects) {
      console.log(`[bench:context] ${s.label === 'current' ? 'sql/' : `baseline ${baselineDir}`}:`);
      console.log('[bench:context]   transaction                                       ms/txn   added by the context (ms)');
      for (const k of TX_KINDS) {
        const v = median(perTx.get(key(s, k))!);
        const base = TX_BASE[k];
        console.log(`[bench:context]   ${k.padEnd(46)}  ${v.toFixed(3).padStart(7)}   ${base ? `+${(v - median(perTx.get(key(s, base))!)).toFixed(3)}` : ''}`);
      }
      const b = perOp.get(key(s, 'select 1'))!;
      const baseRt = median(b.rt);
      const baseSrv = median(b.srv);
      console.log('[bench:context]   call                      round trip (ms)  x SELECT 1   in server (us)  x SELECT 1');
      for (const op of OPS) {
        const f = perOp.get(key(s, op))!;
        const rt = median(f.rt);
        const srv = median(f.srv);
        console.log(`[bench:context]   ${op.padEnd(24)}  ${rt.toFixed(3).padStart(15)}  ${(rt / baseRt).toFixed(2).padStart(10)}  ${(srv * 1000).toFixed(2).padStart(14)}  ${(srv / baseSrv).toFixed(1).padStart(10)}`);
      }
    }
    if (subjects.length === 2) {
      console.log('[bench:context] sql/ against the baseline, same run (ratio of the context\'s added cost per transaction):');
      for (const k of TX_KINDS.filter((x) => TX_BASE[x])) {
        const added = (s: Subject) => median(perTx.get(key(s, k))!) - median(perTx.get(key(s, TX_BASE[k]!))!);
        console.log(`[bench:context]   ${k.padEnd(46)}  +${added(subjects[0]).toFixed(3)} ms against +${added(subjects[1]).toFixed(3)} ms (${(added(subjects[0]) / added(subjects[1])).toFixed(2)}x)`);
      }
    }
    console.log('[bench:context] (per transaction: BEGIN, the calls, COMMIT; round trip: one statement per call in one transaction; in server: calls inside one statement)');
  } finally {
    for (const s of subjects) {
      await s.app.end().catch(() => {});
      await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(s.dbName)} WITH (FORCE)`);
    }
    await admin.end();
  }
}

main().catch(fail);
