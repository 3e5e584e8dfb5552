// Where the load-test tools connect: the local stack of `npm start` by default (src/config.ts), another
// database of it with --database, or explicit URLs from the environment (CI, a remote stack).
//   DATABASE_URL              superuser/owner, direct (seeder, benchmark set-up)
//   APP_DATABASE_URL          application login role, direct (the benchmark's "direct" baseline)
//   APP_POOLED_DATABASE_URL   application login role through PgBouncer (service, benchmark)
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { repoRoot, stackConfig, type StackConfig } from '../../src/config.js';
import { connectionStrings, stackSecrets, type ConnectionStrings } from '../../src/local/stack.js';

export const loadtestsDir = join(repoRoot, 'loadtests');
export const dataDir = join(loadtestsDir, 'data');
export const defaultDataFile = join(dataDir, 'loadtest-data.json');
export const targetsFile = join(loadtestsDir, 'targets.json');

export interface Endpoints extends Omit<ConnectionStrings, 'superuserDirect'> {
  /**
   * Who bulk-loads the seed data with COPY, below row-level security (COPY FROM refuses tables under RLS for
   * a role it applies to). Locally the stack's superuser; elsewhere LOADER_DATABASE_URL (a role that owns the
   * tables or bypasses RLS), else DATABASE_URL. On RDS the master user is neither (issue 12 notes).
   */
  loaderDirect: string;
  database: string;
  stack: StackConfig;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Connection strings for `database` (default: the stack's own) of the local stack, or from the environment. */
export function endpoints(database?: string): Endpoints {
  const stack = stackConfig();
  const env = process.env;
  if (env.DATABASE_URL && env.APP_POOLED_DATABASE_URL) {
    const db = database ?? new URL(env.DATABASE_URL).pathname.slice(1);
    const appDirect = env.APP_DATABASE_URL ?? env.APP_POOLED_DATABASE_URL;
    return {
      stack,
      database: db,
      adminDirect: withDatabase(env.DATABASE_URL, db),
      loaderDirect: withDatabase(env.LOADER_DATABASE_URL ?? env.DATABASE_URL, db),
      appDirect: withDatabase(appDirect, db),
      appPooled: withDatabase(env.APP_POOLED_DATABASE_URL, db),
      // The worker login is optional here: the service's workers act for a user of the item's organization.
      workerPooled: withDatabase(env.WORKER_POOLED_DATABASE_URL ?? env.APP_POOLED_DATABASE_URL, db),
    };
  }
  if (!existsSync(join(stack.home, 'secrets.json')) && !existsSync(stack.home)) {
    throw new Error(`no local stack at ${stack.home}: run \`npm start\` first, or set DATABASE_URL and APP_POOLED_DATABASE_URL`);
  }
  const db = database ?? stack.database;
  const { superuserDirect, ...urls } = connectionStrings(stack, stackSecrets(stack), db);
  return { stack, database: db, loaderDirect: superuserDirect, ...urls };
}

/**
 * The HS256 secret shared by the seeder (which signs the load-test users' tokens) and the workload service
 * (which verifies them): LOADTEST_JWT_SECRET, else a random one kept in the stack's folder (mode 0600).
 */
export function jwtSecret(stack: StackConfig = stackConfig()): Uint8Array {
  const fromEnv = process.env.LOADTEST_JWT_SECRET;
  if (fromEnv) {
    if (fromEnv.length < 32) throw new Error('LOADTEST_JWT_SECRET must be at least 32 characters');
    return new TextEncoder().encode(fromEnv);
  }
  const file = join(stack.home, 'loadtest-jwt-secret');
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
  }
  return new TextEncoder().encode(readFileSync(file, 'utf8').trim());
}

/**
 * Field-encryption key material for the load-test writers (seeder and service), supplied per transaction in
 * app.enc_keys (sql/0430). PGKIT_ENC_KEYS (a JSON object of key id to base64 material; the first key is the
 * one to activate) or a random key kept in the stack's folder (mode 0600). Production keys come from the
 * secret store, never from here.
 */
export function loadtestEncKeys(stack: StackConfig = stackConfig()): { activeKeyId: string; material: Record<string, string> } {
  const fromEnv = process.env.PGKIT_ENC_KEYS;
  if (fromEnv) {
    const m = JSON.parse(fromEnv) as Record<string, string>;
    const ids = Object.keys(m);
    if (!ids.length) throw new Error('PGKIT_ENC_KEYS is an empty object');
    return { activeKeyId: ids[0], material: m };
  }
  const file = join(stack.home, 'loadtest-enc-key');
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
  }
  return { activeKeyId: 'loadtest-1', material: { 'loadtest-1': readFileSync(file, 'utf8').trim() } };
}
