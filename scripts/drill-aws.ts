#!/usr/bin/env -S npx tsx
// `npm run drill:aws`: restores the RDS instance into a temporary instance, verifies it with the same queries
// as the local drills, reports the RTO and deletes the temporary instance (also when a step fails).
//   --instance ID            source DB instance (required)
//   --time ISO               RDS point-in-time restore to this moment (default: the latest restorable time)
//   --backup --iam-role ARN  restore the newest AWS Backup recovery point instead (--recovery-point ARN --vault NAME to pick one)
//   --temp-id ID --class db.t4g.medium --timeout-min 90
//   --secret-arn ARN         master credentials (default: the source's RDS-managed master secret); or PGKIT_AWS_DB_PASSWORD
//   --database pgkit --ca rds-ca-bundle.pem
//   --expected-url URL       a connection to the source: its roles, RLS, policies, extensions, jobs and tables must match
//   --dry-run                print the plan, call nothing
// Runs where the instance's private subnets are reachable (the bastion), with AWS credentials in the environment.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { RDSClient } from '@aws-sdk/client-rds';
import { BackupClient } from '@aws-sdk/client-backup';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import pg from 'pg';
import { repoRoot } from '../src/config.js';
import { renderAwsMarkdown, runAwsDrill, type AwsRestoreSource } from '../src/drills/aws.js';
import { snapshot } from '../src/drills/verify.js';
import { fail } from './lib/fail.js';

const argv = process.argv.slice(2);
const flag = (n: string) => argv.includes(`--${n}`);
function value(n: string): string | undefined {
  const i = argv.indexOf(`--${n}`);
  if (i < 0) return undefined;
  const v = argv[i + 1];
  if (v === undefined || v.startsWith('--')) fail(`--${n} needs a value`);
  return v;
}
const known = new Set(['instance', 'time', 'backup', 'iam-role', 'recovery-point', 'vault', 'temp-id', 'class', 'timeout-min', 'secret-arn', 'database', 'ca', 'expected-url', 'dry-run', 'report-dir']);
for (const a of argv) if (a.startsWith('--') && !known.has(a.slice(2))) fail(`unknown option ${a}; see the header of scripts/drill-aws.ts`);

try {
  const instance = value('instance') ?? fail('--instance <DB instance identifier> is required (see `pulumi stack output`)');
  let source: AwsRestoreSource;
  if (flag('backup')) {
    const iamRoleArn = value('iam-role') ?? fail('--backup needs --iam-role <ARN of the AWS Backup restore role> (the Backups component creates one)');
    source = { kind: 'backup', iamRoleArn, recoveryPointArn: value('recovery-point'), vaultName: value('vault') };
  } else {
    const t = value('time');
    const restoreTime = t ? new Date(t) : undefined;
    if (restoreTime && Number.isNaN(restoreTime.getTime())) fail(`--time ${t} is not a date (use ISO 8601, e.g. 2025-01-31T12:00:00Z)`);
    source = { kind: 'pitr', restoreTime };
  }
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!flag('dry-run') && !region) fail('set AWS_REGION (and AWS credentials) first');
  const database = value('database') ?? 'pgkit';
  const ca = value('ca') ? readFileSync(value('ca')!, 'utf8') : undefined;
  let expected;
  if (value('expected-url')) {
    const c = new pg.Client({ connectionString: value('expected-url') });
    await c.connect();
    try {
      expected = await snapshot(c);
    } finally {
      await c.end();
    }
  }
  const timeoutMin = Number(value('timeout-min') ?? 90);
  const result = await runAwsDrill({
    rds: new RDSClient({ region }),
    backup: new BackupClient({ region }),
    sourceInstanceId: instance,
    source,
    tempInstanceId: value('temp-id'),
    instanceClass: value('class'),
    dryRun: flag('dry-run'),
    expected,
    timeoutMs: timeoutMin * 60_000,
    credentials: async (src) => {
      const envPw = process.env.PGKIT_AWS_DB_PASSWORD;
      const user = src.MasterUsername ?? 'pgkit_admin';
      if (envPw) return { user, password: envPw, database, ca };
      const arn = value('secret-arn') ?? src.MasterUserSecret?.SecretArn;
      if (!arn) throw new Error('no master secret on the instance: pass --secret-arn or set PGKIT_AWS_DB_PASSWORD');
      const s = await new SecretsManagerClient({ region }).send(new GetSecretValueCommand({ SecretId: arn }));
      const parsed = JSON.parse(s.SecretString ?? '{}') as { username?: string; password?: string };
      if (!parsed.password) throw new Error(`secret ${arn} has no password field`);
      return { user: parsed.username ?? user, password: parsed.password, database, ca };
    },
    log: (l) => console.log(`[drill:aws] ${l}`),
  });
  const md = renderAwsMarkdown(result);
  console.log('\n' + md);
  if (!result.dryRun) {
    const dir = value('report-dir') ?? join(repoRoot, 'reports');
    mkdirSync(dir, { recursive: true });
    const base = join(dir, `drill-aws-${result.startedAt.replace(/[:.]/g, '-')}`);
    writeFileSync(`${base}.json`, JSON.stringify(result, null, 2) + '\n');
    writeFileSync(`${base}.md`, md);
    console.log(`Report: ${base}.md`);
  }
  if (!result.ok) process.exit(1);
} catch (e) {
  fail(e);
}
