// The test stack's addresses and the migrated template database that test databases are cloned from.
import pg from 'pg';
import { sqlDir, stackConfig } from '../../src/config.js';
import { isAlive } from '../../src/proc/system.js';
import { connectionStrings, stackSecrets } from '../../src/local/stack.js';
import { applyMigrations, bundleChecksum, loadMigrations } from '../../src/migrate/index.js';

export const testStack = stackConfig('test');

export function urls(database: string) {
  return connectionStrings(testStack, stackSecrets(testStack), database);
}
/** The RDS-shaped admin (pgkit_admin): applies the bundle, as on RDS. */
export const adminUrl = (database: string) => urls(database).adminDirect;
/** The bootstrap superuser: only the harness's own housekeeping (creating and dropping databases for the admin). */
export const superUrl = (database: string) => urls(database).superuserDirect;

export async function templateName(): Promise<string> {
  return `pgkit_tpl_${bundleChecksum(await loadMigrations(sqlDir)).slice(0, 16)}`;
}

/** Test databases are named t_<pid>_<n>: databases of runs that died are dropped on the next setup. */
export async function dropOrphanDatabases(admin: pg.Client) {
  const r = await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname ~ '^t_[0-9]+_'");
  for (const { datname } of r.rows) {
    const pid = Number(datname.split('_')[1]);
    if (!isAlive(pid)) await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(datname)} WITH (FORCE)`);
  }
}

/** One template per bundle checksum, so a run never drops a template another run is cloning. */
export async function ensureTemplate(admin: pg.Client, log: (l: string) => void) {
  const name = await templateName();
  const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate', [name]);
  if (exists.rowCount) return;
  log(`building template database ${name} from sql/`);
  await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  // Built the way RDS is: the database belongs to the admin, and the admin applies the bundle.
  await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)} OWNER ${pg.escapeIdentifier(testStack.adminUser)}`);
  await applyMigrations({ connectionString: adminUrl(name), log: () => {} });
  await admin.query(`ALTER DATABASE ${pg.escapeIdentifier(name)} IS_TEMPLATE true ALLOW_CONNECTIONS false`);
  const old = await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'pgkit_tpl_%' AND datname <> $1", [name]);
  for (const { datname } of old.rows) {
    try {
      await admin.query(`ALTER DATABASE ${pg.escapeIdentifier(datname)} IS_TEMPLATE false`);
      await admin.query(`DROP DATABASE ${pg.escapeIdentifier(datname)}`);
    } catch {
      // another run is still cloning it; a later setup drops it
    }
  }
}
