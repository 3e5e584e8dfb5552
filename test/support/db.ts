// Each test file gets its own database in the test stack: empty (freshDatabase) or with the whole sql/ bundle
// applied (migratedDatabase, cloned from the template in milliseconds). Files run in parallel without sharing.
import pg from 'pg';
import type { ContextSigner } from '../../src/db/context-token.js';
import { ensureContextKeys, stackSecrets, stackSigner } from '../../src/local/stack.js';
import { superUrl, templateName, testStack, urls } from './stack.js';

export interface TestDb {
  name: string;
  /**
   * The RDS-shaped admin (pgkit_admin: CREATEROLE, CREATEDB, member of the rds_superuser stand-in, not a
   * superuser), direct: what applies the bundle here and on RDS. It owns the database.
   */
  url: string;
  /** The bootstrap superuser, direct: for the rare test that must act as the platform itself. */
  superUrl: string;
  /** The application login role (member of pgkit_app), direct to PostgreSQL. */
  appUrl: string;
  /** The application login role through PgBouncer in transaction pooling mode. */
  appPooledUrl: string;
  /** The queue workers' login (member of pgkit_worker), direct and through PgBouncer. */
  workerUrl: string;
  workerPooledUrl: string;
  /**
   * Signs request contexts with the test stack's keys, registered in every migrated test database:
   * `withContext(pool, db.signer.user(org, user), ...)`, or `db.signer.worker({ orgId })` / `'queue'`.
   */
  signer: ContextSigner;
  /**
   * A superuser pool on this database: the tests' fixtures and assertions work below the application (they load
   * rows past row-level security and read what the app cannot). What applies the bundle is `url`, the admin.
   */
  pool: pg.Pool;
  drop(): Promise<void>;
}

let counter = 0;

/** The harness's housekeeping (create, clone, drop databases for the admin) runs as the superuser. */
async function withAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: superUrl('postgres') });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

function handle(name: string): TestDb {
  const u = urls(name);
  const pool = new pg.Pool({ connectionString: u.superuserDirect, max: 5 });
  // drop() ends the database WITH (FORCE): a client a test still holds then gets a termination error, which
  // must not surface as an uncaught exception (query promises still reject as usual).
  pool.on('connect', (client) => client.on('error', () => {}));
  pool.on('error', () => {});
  return {
    name,
    url: u.adminDirect,
    superUrl: u.superuserDirect,
    appUrl: u.appDirect,
    appPooledUrl: u.appPooled,
    workerUrl: u.workerDirect,
    workerPooledUrl: u.workerPooled,
    signer: stackSigner(stackSecrets(testStack)),
    pool,
    async drop() {
      if (!pool.ended) await pool.end();
      await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`));
    },
  };
}

const newName = () => `t_${process.pid}_${Date.now().toString(36)}_${counter++}`;

export async function freshDatabase(): Promise<TestDb> {
  const name = newName();
  await withAdmin((c) => c.query(`CREATE DATABASE ${pg.escapeIdentifier(name)} OWNER ${pg.escapeIdentifier(testStack.adminUser)}`));
  return handle(name);
}

/** A database with the current sql/ bundle applied. Database-level settings and privileges are not copied
 * by CREATE DATABASE ... TEMPLATE, so they are copied here from the template. */
export async function migratedDatabase(): Promise<TestDb> {
  const name = newName();
  const tpl = await templateName();
  await withAdmin(async (c) => {
    await c.query(`CREATE DATABASE ${pg.escapeIdentifier(name)} TEMPLATE ${pg.escapeIdentifier(tpl)} OWNER ${pg.escapeIdentifier(testStack.adminUser)}`);
    const s = await c.query<{ setconfig: string[] }>(
      'SELECT setconfig FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = $1 AND s.setrole = 0',
      [tpl],
    );
    // Nor are the database's privileges (e.g. PUBLIC losing TEMP): copy them too.
    await c.query('UPDATE pg_database d SET datacl = t.datacl FROM pg_database t WHERE t.datname = $1 AND d.datname = $2', [tpl, name]);
    for (const setting of s.rows[0]?.setconfig ?? []) {
      const eq = setting.indexOf('=');
      // The value is the catalog's own rendering (a list for search_path), so it is passed as it is.
      await c.query(`ALTER DATABASE ${pg.escapeIdentifier(name)} SET ${pg.escapeIdentifier(setting.slice(0, eq))} TO ${setting.slice(eq + 1)}`);
    }
  });
  // The test stack's context signing keys, as npm start registers the local stack's (sql/0930).
  await ensureContextKeys(testStack, stackSecrets(testStack), name);
  return handle(name);
}
