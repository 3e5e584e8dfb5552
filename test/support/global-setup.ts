// Brings up the test stack once per `vitest run` (shared safely by concurrent runs through a lock and leases)
// and builds the migrated template database for the current sql/ bundle. The last run to finish stops the stack.
import pg from 'pg';
import { existsSync, readFileSync } from 'node:fs';
import { stackConfig, stackPaths } from '../../src/config.js';
import { addLease, releaseLease, withDirLock } from '../../src/local/lock.js';
import { stackSecrets, startStack, stopStack } from '../../src/local/stack.js';
import { secretsInLog } from './log-scan.js';
import { applyMigrations, DriftError, OutOfOrderError } from '../../src/migrate/index.js';
import { ensureTemplate, dropOrphanDatabases, superUrl, testStack } from './stack.js';

export default async function setup() {
  const cfg = stackConfig('test');
  const log = (l: string) => console.log(`[test stack] ${l}`);
  await withDirLock(cfg.home, async () => {
    await startStack(cfg, { log, migrate: (url) => migrateThrowaway(url, log) });
    addLease(cfg.home);
    // Housekeeping as the superuser; the template itself is built by the admin (ensureTemplate).
    const admin = new pg.Client({ connectionString: superUrl('postgres') });
    await admin.connect();
    try {
      await dropOrphanDatabases(admin);
      await ensureTemplate(admin, log);
    } finally {
      await admin.end();
    }
  });
  return async () => {
    // No password or keyring may have reached the server log, whatever the suite did.
    const leaks = existsSync(stackPaths(cfg).pgLog) ? secretsInLog(readFileSync(stackPaths(cfg).pgLog, 'utf8'), stackSecrets(cfg)) : [];
    await withDirLock(cfg.home, async () => {
      if (releaseLease(cfg.home) === 0 && process.env.PGKIT_TEST_KEEP_STACK !== '1') await stopStack(cfg, log);
    });
    if (leaks.length) throw new Error(`secrets in the test stack's server log ${stackPaths(cfg).pgLog}: ${leaks.join('; ')}`);
  };
}

/**
 * The test stack's own `pgkit` database (where pg_cron lives) is throwaway: when sql/ files it already ran were
 * edited or renumbered (normal while a bundle is being written), it is rebuilt rather than refused.
 */
async function migrateThrowaway(url: string, log: (l: string) => void) {
  try {
    await applyMigrations({ connectionString: url });
  } catch (e) {
    if (!(e instanceof DriftError || e instanceof OutOfOrderError)) throw e;
    log(`sql/ changed under the test stack's database (${e.message.split('.')[0]}): rebuilding it`);
    const admin = new pg.Client({ connectionString: superUrl('postgres') });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(testStack.database)} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(testStack.database)} OWNER ${pg.escapeIdentifier(testStack.adminUser)}`);
    } finally {
      await admin.end();
    }
    await applyMigrations({ connectionString: url });
  }
}
