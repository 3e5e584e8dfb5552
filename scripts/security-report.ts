// npm run security:report — builds a scratch database on the local stack (npm start first) from sql/, runs
// the break-in suite through PgBouncer as the application role, prints the summary and drops the database.
// Exit 1 when a row leaked, a tenant table lacks forced RLS, or B's rows changed.
// Options: --stack local|test (default local), --keep (keep the scratch database), --json.
import { parseArgs } from 'node:util';
import pg from 'pg';
import { sqlDir, stackConfig, type StackName } from '../src/config.js';
import { connectionStrings, ensureContextKeys, ensureLoginRoles, stackSecrets, stackSigner } from '../src/local/stack.js';
import { applyMigrations } from '../src/migrate/index.js';
import { runBreakInSuite } from '../src/security/attacks.js';
import { fail } from './lib/fail.js';

async function main() {
  const { values } = parseArgs({ options: { stack: { type: 'string', default: 'local' }, keep: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } } });
  const cfg = stackConfig(values.stack as StackName);
  const secrets = stackSecrets(cfg);
  const name = `pgkit_security_report_${process.pid}`;
  const admin = new pg.Client({ connectionString: connectionStrings(cfg, secrets, 'postgres').adminDirect });
  try {
    await admin.connect();
  } catch (e) {
    throw new Error(`cannot reach the ${cfg.name} stack's PostgreSQL (${(e as Error).message}): run \`npm start\` first`);
  }
  try {
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    const urls = connectionStrings(cfg, secrets, name);
    await applyMigrations({ connectionString: urls.adminDirect, dir: sqlDir, log: () => {} });
    await ensureLoginRoles(cfg, secrets);
    await ensureContextKeys(cfg, secrets, name);
    const r = await runBreakInSuite({ adminUrl: urls.adminDirect, appPooledUrl: urls.appPooled, signer: stackSigner(secrets) });
    const kinds = new Map<string, { n: number; leaked: number }>();
    for (const a of r.attempts) {
      const k = kinds.get(a.kind.replace(/ \(.*\)$/, '')) ?? { n: 0, leaked: 0 };
      k.n += 1;
      k.leaked += a.leaked;
      kinds.set(a.kind, k);
    }
    const unchanged = r.bChecksumAfter === r.bChecksumBefore;
    if (values.json) {
      console.log(JSON.stringify({ ...r, attempts: r.attempts.length, unchanged }, null, 2));
    } else {
      const rows: Array<[string, string]> = [
        ['tenant tables with RLS enabled+forced / tenant tables', `${r.tenantTablesWithForcedRls} / ${r.tenantTablesTotal}`],
        ['all tables with RLS enabled+forced / all tables (app, app_private, audit, ops)', `${r.tablesWithRls} / ${r.tablesTotal}`],
        ['policies', String(r.policies)],
        ['break-in attempts (through PgBouncer, as org A)', String(r.attempts.length)],
        ['rows leaked (must be 0)', String(r.leaked)],
        ["org B's rows unchanged", unchanged ? 'yes' : 'NO'],
        ['tables without forced RLS', r.gaps.length ? r.gaps.join(', ') : 'none'],
        ['tenant tables not seeded (RLS-checked only)', r.unprobed.length ? r.unprobed.join(', ') : 'none'],
      ];
      const w = Math.max(...rows.map(([k]) => k.length));
      console.log(`\npgkit security report (${cfg.name} stack, database ${name})\n`);
      for (const [k, v] of rows) console.log(`  ${k.padEnd(w)}  ${v}`);
      console.log('\n  attempts by kind:');
      for (const [k, v] of [...kinds.entries()].sort()) console.log(`    ${k.padEnd(40)} ${String(v.n).padStart(4)}  leaked ${v.leaked}`);
      console.log('');
    }
    if (r.leaked > 0 || r.gaps.length > 0 || !unchanged) process.exitCode = 1;
  } finally {
    if (!values.keep) await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`).catch(() => {});
    await admin.end();
  }
}

main().catch(fail);
