// Brings up the test stack once per `vitest run` (shared safely by concurrent runs through a lock and leases)
// and builds the migrated template database for the current sql/ bundle. The last run to finish stops the stack.
import pg from 'pg';
import { stackConfig } from '../../src/config.js';
import { addLease, releaseLease, withDirLock } from '../../src/local/lock.js';
import { startStack, stopStack } from '../../src/local/stack.js';
import { applyMigrations } from '../../src/migrate/index.js';
import { adminUrl, ensureTemplate, dropOrphanDatabases } from './stack.js';

export default async function setup() {
  const cfg = stackConfig('test');
  const log = (l: string) => console.log(`[test stack] ${l}`);
  await withDirLock(cfg.home, async () => {
    await startStack(cfg, { log, migrate: async (url) => void (await applyMigrations({ connectionString: url })) });
    addLease(cfg.home);
    const admin = new pg.Client({ connectionString: adminUrl('postgres') });
    await admin.connect();
    try {
      await dropOrphanDatabases(admin);
      await ensureTemplate(admin, log);
    } finally {
      await admin.end();
    }
  });
  return async () => {
    await withDirLock(cfg.home, async () => {
      if (releaseLease(cfg.home) === 0 && process.env.PGKIT_TEST_KEEP_STACK !== '1') await stopStack(cfg, log);
    });
  };
}
