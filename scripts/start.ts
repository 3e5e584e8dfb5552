#!/usr/bin/env -S npx tsx
// `npm start`: brings up the local platform (PostgreSQL 15 + PgBouncer, WAL archived by pgBackRest), applies
// pending SQL bundles, and prints what a person needs at a glance: one line on the SQL bundle, the connection
// strings, the stack's status table, and where the full migration ledger is.
//   --replica   also a streaming read replica (same as PGKIT_REPLICA=1; port PGKIT_REPLICA_PORT, default 25433),
//               restored from the stack's pgBackRest backup, reached read-only through PgBouncer as <database>_readonly
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stackConfig } from '../src/config.js';
import { formatStatusTable, shortPath, stackStatus, startStack } from '../src/local/stack.js';
import { applyMigrations, type ApplyResult } from '../src/migrate/index.js';
import { fail } from './lib/fail.js';
import { migrationSummary, MigrationLog } from './lib/start-output.js';

const argv = process.argv.slice(2);
for (const a of argv) if (a !== '--replica') fail(`unknown option ${a}: \`npm start\` takes only --replica (see the header of scripts/start.ts)`);
const cfg = { ...stackConfig(), ...(argv.includes('--replica') ? { replica: true } : {}) };
const log = (l: string) => console.log(`[pgkit] ${l}`);
const migrations = new MigrationLog(process.stdout, log);

try {
  const sql: { applied: ApplyResult | null } = { applied: null };
  const result = await startStack(cfg, {
    log,
    migrate: async (url) => {
      const t0 = performance.now();
      sql.applied = await applyMigrations({ connectionString: url, log: migrations.line });
      migrations.end();
      log(migrationSummary(sql.applied, performance.now() - t0));
    },
  });
  if (result.alreadyRunning && !sql.applied?.applied.length) log(`the ${cfg.name} stack is already running and up to date: nothing to do`);
  const envFile = join(cfg.home, 'env');
  writeFileSync(
    envFile,
    `DATABASE_URL=${result.urls.adminDirect}\nAPP_DATABASE_URL=${result.urls.appDirect}\nAPP_POOLED_DATABASE_URL=${result.urls.appPooled}\nWORKER_POOLED_DATABASE_URL=${result.urls.workerPooled}\n${result.replica ? `APP_READ_DATABASE_URL=${result.urls.appReadonlyPooled}\n` : ''}`,
    { mode: 0o600 },
  );
  const shownEnvFile = shortPath(envFile);
  console.log(`\nConnection strings (also in ${shownEnvFile}):`);
  console.log(`  direct (admin, migrations):   ${result.urls.adminDirect}`);
  console.log(`  direct (app role):            ${result.urls.appDirect}`);
  console.log(`  pooled (app role, PgBouncer): ${result.urls.appPooled}`);
  console.log(`  direct (queue worker role):   ${result.urls.workerDirect}`);
  console.log(`  pooled (queue worker role):   ${result.urls.workerPooled}`);
  if (result.replica) console.log(`  read replica (app, pooled):   ${result.urls.appReadonlyPooled}`);
  console.log('\n' + formatStatusTable(await stackStatus(cfg)));
  console.log(`\nThe full migration ledger: \`npm run status\`, or \`npm run migrate -- status\` with DATABASE_URL from ${shownEnvFile}.`);
  console.log('Stop with `npm stop` (data is kept).');
} catch (e) {
  migrations.end();
  if (migrations.lines.length) console.error(`[pgkit] the migration runner's last lines:\n${migrations.tail().map((l) => `  ${l}`).join('\n')}`);
  fail(e);
}
