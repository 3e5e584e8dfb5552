// CLI over the migration runner: npx tsx scripts/migrate.ts status|plan|apply|lint [options]
// Exit codes: 0 done; 1 failed (or `status` found drift, or `lint` found problems); 2 usage error.
import { parseArgs } from 'node:util';
import {
  applyMigrations,
  DriftError,
  formatPlan,
  formatStatus,
  lintMigrations,
  LockTimeoutError,
  MigrationError,
  migrationStatus,
  OutOfOrderError,
  planMigrations,
} from '../src/migrate/index.js';

const USAGE = `usage: npx tsx scripts/migrate.ts <status|plan|apply|lint> [options]

  status   applied, pending, drifted and missing files, with the ledger (exit 1 on drift)
  plan     what apply would run, in order; changes nothing
  apply    apply pending files under the migration lock, then print the status
  lint     run squawk over the files (strict rules for 0800+)

options:
  --database-url URL        default: $DATABASE_URL (a direct connection, not a transaction-mode pooler)
  --dir DIR                 migration folder (default: sql/)
  --allow-drift             apply pending files although applied files changed or vanished
  --allow-out-of-order      apply pending files numbered below an applied one (local databases)
  --lock-timeout T          lock_timeout for each file (default 5s)
  --statement-timeout T     statement_timeout for each file (default 15min)
  --lock-wait SECONDS       how long to wait for another runner (default 300)`;

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        'database-url': { type: 'string' },
        dir: { type: 'string' },
        'allow-drift': { type: 'boolean', default: false },
        'allow-out-of-order': { type: 'boolean', default: false },
        'lock-timeout': { type: 'string' },
        'statement-timeout': { type: 'string' },
        'lock-wait': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  const command = positionals[0];
  if (v.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1 || !['status', 'plan', 'apply', 'lint'].includes(command)) {
    console.error(USAGE);
    return 2;
  }

  if (command === 'lint') {
    const result = await lintMigrations(v.dir);
    console.log(result.ok ? `squawk: no problems in ${result.runs.flatMap((r) => r.files).length} file(s)` : result.report);
    return result.ok ? 0 : 1;
  }

  const connectionString = v['database-url'] ?? process.env.DATABASE_URL;
  if (!connectionString) {
    console.error('no database: set DATABASE_URL or pass --database-url URL');
    return 2;
  }
  const lockWait = v['lock-wait'] === undefined ? undefined : Number(v['lock-wait']);
  if (lockWait !== undefined && !(lockWait >= 0)) {
    console.error(`--lock-wait ${v['lock-wait']} is not valid: expected a number of seconds`);
    return 2;
  }
  const common = { connectionString, dir: v.dir };
  console.error(`database: ${redact(connectionString)}`);

  if (command === 'status') {
    const report = await migrationStatus(common);
    console.log(formatStatus(report));
    return report.drifted.length || report.missing.length || report.schemaDrift.changes.length ? 1 : 0;
  }
  if (command === 'plan') {
    const plan = await planMigrations({ ...common, allowDrift: v['allow-drift'], allowOutOfOrder: v['allow-out-of-order'] });
    console.log(formatPlan(plan));
    return plan.refusal ? 1 : 0;
  }
  const result = await applyMigrations({
    ...common,
    allowDrift: v['allow-drift'],
    allowOutOfOrder: v['allow-out-of-order'],
    lockTimeout: v['lock-timeout'],
    statementTimeout: v['statement-timeout'],
    lockWaitTimeoutMs: lockWait === undefined ? undefined : lockWait * 1000,
    log: (line) => console.log(line),
  });
  console.log(`applied ${result.applied.length} file(s); bundle ${result.checksum.slice(0, 12)}\n`);
  console.log(formatStatus(await migrationStatus(common)));
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    const known = e instanceof MigrationError || e instanceof DriftError || e instanceof OutOfOrderError || e instanceof LockTimeoutError;
    console.error(known ? `migrate: ${(e as Error).message}` : `migrate failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
