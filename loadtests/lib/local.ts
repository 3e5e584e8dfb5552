// Where the load-test tools connect: the local stack of `npm start` by default (src/config.ts), another
// database of it with --database, or explicit URLs from the environment (CI, a remote stack).
//   DATABASE_URL              superuser/owner, direct (seeder, benchmark set-up)
//   APP_DATABASE_URL          application login role, direct (the benchmark's "direct" baseline)
//   APP_POOLED_DATABASE_URL   application login role through PgBouncer (service, benchmark)
//   APP_READ_DATABASE_URL     application login role on the read replica, through PgBouncer's read-only entry
//                             (`<database>_readonly`); locally the stack's when its replica runs (npm start -- --replica)
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { repoRoot, stackConfig, type StackConfig } from '../../src/config.js';
import type { ContextSigningKey } from '../../src/db/context-token.js';
import { contextKeysOf } from '../../src/local/secrets.js';
import { connectionStrings, stackSecrets, type ConnectionStrings } from '../../src/local/stack.js';
import { replicaRunning } from '../../src/local/replica.js';

export const loadtestsDir = join(repoRoot, 'loadtests');
export const dataDir = join(loadtestsDir, 'data');
export const defaultDataFile = join(dataDir, 'loadtest-data.json');
export const targetsFile = join(loadtestsDir, 'targets.json');

export interface Endpoints extends Omit<ConnectionStrings, 'superuserDirect' | 'appReadonlyPooled'> {
  /** Where read-only requests may go (the replica, through PgBouncer); null: no replica. */
  appReadPooled: string | null;
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
      // The queue functions are granted to the worker login only (sql/0930): WORKER_POOLED_DATABASE_URL.
      workerDirect: withDatabase(env.WORKER_DATABASE_URL ?? env.WORKER_POOLED_DATABASE_URL ?? env.APP_POOLED_DATABASE_URL, db),
      workerPooled: withDatabase(env.WORKER_POOLED_DATABASE_URL ?? env.APP_POOLED_DATABASE_URL, db),
      // The read-only entry names its own database (`<db>_readonly`): taken as it is.
      appReadPooled: env.APP_READ_DATABASE_URL || null,
    };
  }
  if (!existsSync(join(stack.home, 'secrets.json')) && !existsSync(stack.home)) {
    throw new Error(`no local stack at ${stack.home}: run \`npm start\` first, or set DATABASE_URL and APP_POOLED_DATABASE_URL`);
  }
  const db = database ?? stack.database;
  const { superuserDirect, appReadonlyPooled, ...urls } = connectionStrings(stack, stackSecrets(stack), db);
  const appReadPooled = env.APP_READ_DATABASE_URL || (replicaRunning(stack) !== null ? appReadonlyPooled : null);
  return { stack, database: db, loaderDirect: superuserDirect, appReadPooled, ...urls };
}

/**
 * The stack's live request-context signing keys (sql/0930; secrets.json, created by npm start): the seeder signs
 * the load-test users' and workers' tokens with them, the workload service checks tokens with them, and the
 * database verifies the same tokens again. Rotate with `npm run rotate-context-key`.
 */
export function contextKeys(stack: StackConfig = stackConfig()): ContextSigningKey[] {
  if (process.env.LOADTEST_JWT_SECRET) {
    throw new Error('LOADTEST_JWT_SECRET is no longer read: tokens are signed with the stack\'s context keys, which the database verifies too (secrets.json contextKeys; npm run rotate-context-key). Unset it.');
  }
  const fromEnv = process.env.PGKIT_CONTEXT_KEYS;
  if (fromEnv) {
    // For a remote stack: the same shape as secrets.json's contextKeys, [{ kid, purpose, secret (base64url) }].
    const keys = JSON.parse(fromEnv) as Array<{ kid: string; purpose: 'user' | 'worker'; secret: string }>;
    if (!Array.isArray(keys) || !keys.some((k) => k.purpose === 'user')) throw new Error('PGKIT_CONTEXT_KEYS must be a JSON array of { kid, purpose, secret } with a user key');
    return keys.map((k) => ({ kid: k.kid, purpose: k.purpose, secret: Buffer.from(k.secret, 'base64url') }));
  }
  return contextKeysOf(stackSecrets(stack));
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
