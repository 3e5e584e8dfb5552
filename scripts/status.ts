#!/usr/bin/env -S npx tsx
// `npm run status`: the stack's processes, and the migration ledger when PostgreSQL is up.
import { stackConfig } from '../src/config.js';
import { connectionStrings, formatStatusTable, postgresRunning, stackSecrets, stackStatus } from '../src/local/stack.js';
import { formatStatus, migrationStatus } from '../src/migrate/index.js';
import { replicaRunning } from '../src/local/replica.js';
import { fail } from './lib/fail.js';

const cfg = stackConfig();
try {
  console.log(formatStatusTable(await stackStatus(cfg)));
  if (postgresRunning(cfg) !== null) {
    const urls = connectionStrings(cfg, stackSecrets(cfg));
    console.log(`\npooled (app role): ${urls.appPooled}`);
    if (replicaRunning(cfg) !== null) console.log(`read replica (app role, pooled): ${urls.appReadonlyPooled}`);
    console.log('\n' + formatStatus(await migrationStatus({ connectionString: urls.adminDirect })));
  } else {
    console.log('\nStart it with `npm start`.');
  }
} catch (e) {
  fail(e);
}
