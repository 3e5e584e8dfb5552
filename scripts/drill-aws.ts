#!/usr/bin/env -S npx tsx
// `npm run drill:aws`: restores the RDS instance into a temporary instance, gives it its own password,
// verifies it, reports the RTO in phases and deletes the temporary instance — only if this run created it.
// docs/drills.md ("AWS drill") says what to run, from where, with which permissions, and what the report proves.
//   --instance ID                 source DB instance (stack output instanceId; required, also for a deleted source)
//   --time ISO                    PITR to this moment (default: a target between two marker rows with --marker-url,
//                                 else the latest restorable time)
//   --source-dbi-resource-id ID   the source was deleted: restore from its retained automated backups; needs
//                                 --subnet-group, --security-group-ids a,b and --parameter-group
//   --backup --vault NAME --iam-role ARN   AWS Backup: the newest completed point of the instance in the stack's
//                                 vault (stack outputs backupVaultName, drillRestoreRoleArn); --recovery-point ARN
//   --temp-id ID --class db.t4g.medium --timeout-min 90 --verify-timeout-min 20 --cleanup-timeout-min 60
//   --database pgkit
//   --ca FILE                     RDS CA bundle (default certs/rds-global-bundle.pem); --insecure-tls to skip (reported)
//   --host H --port P             connect here instead of the endpoint (the local end of an SSM port-forward)
//   --tunnel-via INSTANCE-ID      let the drill open the port-forwards through the bastion (stack output
//                                 bastionInstanceId; aws CLI + Session Manager plugin; local port --port, default 15432),
//                                 to the source in the preflight and to the temporary instance once it is ready
//   --marker-url URL              a connection to the SOURCE allowed to create schema pgkit_drill: two marker rows
//                                 around the target prove the restore time
//   --expected-url URL            a connection to the source: its structure (catalogs only, no row reads) must match
//   --remove-orphans              delete instances tagged pgkit:drill by earlier runs of this source (default: report)
//   --dry-run                     print the plan, call nothing
// AWS credentials: the SDK's default provider chain (env, SSO, profiles with role_arn, web identity, ECS/EC2 role);
// SSO, assumed roles and instance roles are refreshed, environment variables are not (the preflight checks their
// expiry against the worst-case length of the run).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RDSClient } from '@aws-sdk/client-rds';
import { BackupClient } from '@aws-sdk/client-backup';
import pg from 'pg';
import { repoRoot } from '../src/config.js';
import { defaultTempId, pgMarkerSource, renderAwsMarkdown, runAwsDrill, ssmTunnelArgs, type AwsRestoreSource, type TlsMode } from '../src/drills/aws.js';
import { runInBackground, type Background } from '../src/proc/run.js';
import { snapshot } from '../src/drills/verify.js';
import { withClient } from '../src/db/client.js';
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
const known = new Set(['instance', 'time', 'backup', 'iam-role', 'recovery-point', 'vault', 'temp-id', 'class', 'timeout-min', 'verify-timeout-min', 'cleanup-timeout-min', 'database', 'ca', 'insecure-tls', 'host', 'port', 'marker-url', 'expected-url', 'remove-orphans', 'source-dbi-resource-id', 'subnet-group', 'security-group-ids', 'parameter-group', 'dry-run', 'report-dir', 'tunnel-via']);
for (const a of argv) if (a.startsWith('--') && !known.has(a.slice(2))) fail(`unknown option ${a}; see the header of scripts/drill-aws.ts`);

const minutes = (n: string, d: number) => {
  const v = Number(value(n) ?? d);
  if (!Number.isFinite(v) || v <= 0) fail(`--${n} must be a positive number of minutes`);
  return v * 60_000;
};

try {
  const instance = value('instance') ?? fail('--instance <DB instance identifier> is required (pulumi stack output instanceId)');
  let source: AwsRestoreSource;
  if (flag('backup')) {
    const iamRoleArn = value('iam-role') ?? fail('--backup needs --iam-role <restore role ARN> (pulumi stack output drillRestoreRoleArn)');
    const vaultName = value('vault') ?? fail('--backup needs --vault <name> (pulumi stack output backupVaultName): recovery points are taken from the stack vault only');
    source = { kind: 'backup', iamRoleArn, vaultName, recoveryPointArn: value('recovery-point') };
  } else {
    const t = value('time');
    const restoreTime = t ? new Date(t) : undefined;
    if (restoreTime && Number.isNaN(restoreTime.getTime())) fail(`--time ${t} is not a date (use ISO 8601, e.g. 2025-01-31T12:00:00Z)`);
    source = { kind: 'pitr', restoreTime };
  }
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!flag('dry-run') && !region) fail('set AWS_REGION (and AWS credentials) first');

  let tls: TlsMode;
  if (flag('insecure-tls')) tls = { insecure: true };
  else {
    const caPath = value('ca') ?? join(repoRoot, 'certs', 'rds-global-bundle.pem');
    if (!existsSync(caPath)) fail(`the RDS CA bundle ${caPath} does not exist: mkdir -p certs && curl -o certs/rds-global-bundle.pem https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem (or --ca FILE)`);
    tls = { ca: readFileSync(caPath, 'utf8') };
  }
  const tunnelVia = value('tunnel-via');
  const host = value('host') ?? (tunnelVia ? '127.0.0.1' : undefined);
  const port = value('port') ?? (tunnelVia ? '15432' : undefined);
  if (Boolean(host) !== Boolean(port)) fail('--host and --port go together (the local end of the SSM port-forward)');
  const tempId = value('temp-id') ?? defaultTempId(instance, new Date());
  const dbiResourceId = value('source-dbi-resource-id');

  // Structure only: catalogs, no table scans on production.
  const expected = value('expected-url') ? await withClient(value('expected-url')!, (c) => snapshot(c, { contents: false })) : undefined;
  const markers = value('marker-url')
    ? pgMarkerSource(async () => {
        const c = new pg.Client({ connectionString: value('marker-url') });
        await c.connect();
        return c;
      })
    : undefined;

  // Default provider chain: the clients refresh what their provider can refresh.
  const rds = new RDSClient({ region });
  const backup = new BackupClient({ region });

  // --tunnel-via: port-forwards opened by the drill when it needs them (Session Manager ends idle sessions).
  const tunnels = new Set<Background>();
  const tunnel = tunnelVia
    ? {
        open: async (remoteHost: string, remotePort: number) => {
          const localPort = Number(port);
          const bg = runInBackground('aws', ssmTunnelArgs(remoteHost, remotePort, localPort, tunnelVia));
          tunnels.add(bg);
          // The Session Manager plugin prints this once the local port listens.
          try {
            await bg.waitFor(/Waiting for connections/, 60_000);
          } catch (e) {
            await bg.stop();
            tunnels.delete(bg);
            throw e;
          }
          return { host: '127.0.0.1', port: localPort, close: async () => void (await bg.stop(), tunnels.delete(bg)) };
        },
      }
    : undefined;

  const ac = new AbortController();
  let signals = 0;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      signals++;
      if (signals === 1) {
        console.error(`[drill:aws] ${sig}: stopping and deleting the temporary instance if this run created it (send ${sig} again to exit at once and delete it by hand)`);
        ac.abort();
      } else {
        console.error('[drill:aws] exiting without clean-up: list what is left with `aws rds describe-db-instances --query "DBInstances[?TagList[?Key==\'pgkit:drill\']].DBInstanceIdentifier"`');
        process.exit(130);
      }
    });
  }

  const result = await runAwsDrill({
    rds,
    backup,
    sourceInstanceId: instance,
    sourceDbiResourceId: dbiResourceId,
    placement: dbiResourceId || value('subnet-group') ? { subnetGroup: value('subnet-group'), securityGroupIds: value('security-group-ids')?.split(','), parameterGroup: value('parameter-group') } : undefined,
    source,
    tempInstanceId: tempId,
    instanceClass: value('class'),
    dryRun: flag('dry-run'),
    database: value('database') ?? 'pgkit',
    tls,
    connectVia: !tunnelVia && host && port ? { host, port: Number(port) } : undefined,
    tunnel,
    expected,
    markers,
    sweep: flag('remove-orphans') ? 'remove' : 'report',
    signal: ac.signal,
    timeoutMs: minutes('timeout-min', 90),
    verifyTimeoutMs: minutes('verify-timeout-min', 20),
    cleanupTimeoutMs: minutes('cleanup-timeout-min', 60),
    preflight: {
      credentials: async () => {
        const c = await rds.config.credentials();
        const fromEnv = Boolean(process.env.AWS_ACCESS_KEY_ID);
        // fromEnv (first in the default chain) reads the variables once and never refreshes them.
        return { expiration: c.expiration, refreshes: !fromEnv, source: fromEnv ? 'environment variables' : `the default provider chain (profile ${process.env.AWS_PROFILE ?? 'default'})` };
      },
    },
    log: (l) => console.log(`[drill:aws] ${l}`),
  });
  await markers?.close();
  for (const t of tunnels) await t.stop();
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
  process.exit(result.ok ? 0 : 1);
} catch (e) {
  fail(e);
}
