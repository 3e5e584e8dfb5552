#!/usr/bin/env -S npx tsx
// `npm start`: brings up the local platform (PostgreSQL 15 + PgBouncer, WAL archived by pgBackRest),
// applies pending SQL bundles, and prints the connection strings, the stack status and the ledger status.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stackConfig } from '../src/config.js';
import { formatStatusTable, stackStatus, startStack } from '../src/local/stack.js';
import { applyMigrations, migrationStatus, formatStatus } from '../src/migrate/index.js';
import { fail } from './lib/fail.js';

const cfg = stackConfig();
const log = (l: string) => console.log(`[pgkit] ${l}`);

try {
  let applied: string[] = [];
  const result = await startStack(cfg, {
    log,
    migrate: async (url) => {
      const r = await applyMigrations({ connectionString: url, log });
      applied = r.applied;
    },
  });
  const changed = !result.alreadyRunning || applied.length > 0;
  if (!changed) log(`the ${cfg.name} stack is already running and up to date: nothing to do`);
  const envFile = join(cfg.home, 'env');
  writeFileSync(
    envFile,
    `DATABASE_URL=${result.urls.adminDirect}\nAPP_DATABASE_URL=${result.urls.appDirect}\nAPP_POOLED_DATABASE_URL=${result.urls.appPooled}\nWORKER_POOLED_DATABASE_URL=${result.urls.workerPooled}\n`,
    { mode: 0o600 },
  );
  console.log('\nConnection strings (also in ' + envFile + '):');
  console.log(`  direct (admin, migrations):  ${result.urls.adminDirect}`);
  console.log(`  direct (app role):           ${result.urls.appDirect}`);
  console.log(`  pooled (app role, PgBouncer): ${result.urls.appPooled}`);
  console.log(`  pooled (queue worker role):   ${result.urls.workerPooled}`);
  console.log('\n' + formatStatusTable(await stackStatus(cfg)));
  console.log('\n' + formatStatus(await migrationStatus({ connectionString: result.urls.adminDirect })));
  console.log('\nStop with `npm stop` (data is kept); status with `npm run status`.');
} catch (e) {
  fail(e);
}
