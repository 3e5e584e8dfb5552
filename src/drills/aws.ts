// The AWS drill: restore the RDS instance to a point in time (RDS PITR) or from the latest AWS Backup
// recovery point into a TEMPORARY instance, wait for it, run the same verification queries as the local
// drills, report the RTO, and delete the temporary instance whatever happened. The AWS clients are passed in
// (anything with send(command)), so tests drive the whole flow with fakes.
import {
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  RestoreDBInstanceToPointInTimeCommand,
  type DBInstance,
} from '@aws-sdk/client-rds';
import {
  DescribeRestoreJobCommand,
  GetRecoveryPointRestoreMetadataCommand,
  ListRecoveryPointsByResourceCommand,
  StartRestoreJobCommand,
} from '@aws-sdk/client-backup';
import pg from 'pg';
import { sleep } from '../proc/system.js';
import { compareSnapshots, snapshot, summarize, type DatabaseSnapshot } from './verify.js';

/** What the drill needs of an AWS SDK v3 client. */
export interface AwsSender {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  send(command: any): Promise<any>;
}

export type AwsRestoreSource =
  | { kind: 'pitr'; /** default: the latest restorable time */ restoreTime?: Date }
  | { kind: 'backup'; /** default: the newest completed recovery point of the instance */ recoveryPointArn?: string; vaultName?: string; iamRoleArn: string };

export interface DbCredentials {
  user: string;
  password: string;
  database: string;
  /** PEM of the RDS CA bundle; without it TLS is used unverified (the report says so). */
  ca?: string;
}

export interface AwsDrillOptions {
  rds: AwsSender;
  backup?: AwsSender;
  sourceInstanceId: string;
  source: AwsRestoreSource;
  /** Default: <source>-drill-<yyyymmddhhmmss>. */
  tempInstanceId?: string;
  /** Default: the source's class. */
  instanceClass?: string;
  dryRun?: boolean;
  /** Credentials for the restored instance (a restore keeps the source's master user and password). */
  credentials?: (source: DBInstance) => Promise<DbCredentials>;
  /** The restored database is compared against this (e.g. a snapshot of the source); without it, only read. */
  expected?: DatabaseSnapshot;
  /** Compare row counts and checksums too (only meaningful when `expected` was taken at the restore time). */
  compareContents?: boolean;
  /** Replaces the pg verification (tests). */
  verify?: (endpoint: { host: string; port: number }, creds: DbCredentials | null) => Promise<AwsVerification>;
  pollMs?: number;
  timeoutMs?: number;
  log?: (l: string) => void;
  now?: () => Date;
}

export interface AwsVerification {
  ok: boolean;
  failures: string[];
  summary: ReturnType<typeof summarize> | null;
  tlsVerified: boolean;
}

export interface AwsDrillResult {
  kind: 'pgkit-drill-aws';
  ok: boolean;
  dryRun: boolean;
  plan: string[];
  sourceInstanceId: string;
  tempInstanceId: string;
  restoreKind: AwsRestoreSource['kind'];
  restoredTo: string | null;
  recoveryPointArn: string | null;
  startedAt: string;
  finishedAt: string;
  /** restore request → instance available → verified. */
  rto: { restoreMs: number | null; verifyMs: number | null; totalMs: number | null };
  verification: AwsVerification | null;
  cleanup: { attempted: boolean; deleted: boolean; error: string | null };
  failures: string[];
}

const FAILED_STATES = new Set(['failed', 'incompatible-restore', 'incompatible-parameters', 'incompatible-network', 'storage-full', 'inaccessible-encryption-credentials', 'restore-error']);

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

function errName(e: unknown): string {
  const x = e as { name?: string; Code?: string };
  return x.name ?? x.Code ?? '';
}

async function describe(rds: AwsSender, id: string): Promise<DBInstance | null> {
  try {
    const r = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
    return (r.DBInstances?.[0] as DBInstance | undefined) ?? null;
  } catch (e) {
    if (errName(e) === 'DBInstanceNotFoundFault' || errName(e) === 'DBInstanceNotFound') return null;
    throw e;
  }
}

async function waitAvailable(rds: AwsSender, id: string, pollMs: number, timeoutMs: number, log: (l: string) => void): Promise<DBInstance> {
  const until = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < until) {
    const db = await describe(rds, id);
    const status = db?.DBInstanceStatus ?? 'not yet visible';
    if (status !== last) log(`  ${id}: ${status}`);
    last = status;
    if (db && status === 'available' && db.Endpoint?.Address) return db;
    if (FAILED_STATES.has(status)) throw new Error(`the temporary instance ${id} ended in state '${status}': see its events in the RDS console (aws rds describe-events --source-identifier ${id})`);
    await sleep(pollMs);
  }
  throw new Error(`the temporary instance ${id} was not available within ${Math.round(timeoutMs / 60000)} min (last state: ${last}); raise --timeout-min or look at its events`);
}

/** The verification the local drills run, against the restored instance over TLS. */
export async function verifyWithPg(endpoint: { host: string; port: number }, creds: DbCredentials, expected?: DatabaseSnapshot, compareContents = false): Promise<AwsVerification> {
  const client = new pg.Client({
    host: endpoint.host,
    port: endpoint.port,
    user: creds.user,
    password: creds.password,
    database: creds.database,
    ssl: creds.ca ? { ca: creds.ca, rejectUnauthorized: true } : { rejectUnauthorized: false },
    connectionTimeoutMillis: 15_000,
  });
  await client.connect();
  try {
    const actual = await snapshot(client);
    const failures: string[] = [];
    if (expected) {
      const e = compareContents ? expected : { ...expected, tables: expected.tables.map((t) => ({ ...t, rows: 0, checksum: '' })) };
      const a = compareContents ? actual : { ...actual, tables: actual.tables.map((t) => ({ ...t, rows: 0, checksum: '' })) };
      failures.push(...compareSnapshots(e, a));
    }
    if (actual.tables.length === 0) failures.push('the restored database has no tables in the core schemas (app, audit, ops): wrong database or an empty restore');
    return { ok: failures.length === 0, failures, summary: summarize(actual), tlsVerified: Boolean(creds.ca) };
  } finally {
    await client.end().catch(() => {});
  }
}

export async function runAwsDrill(o: AwsDrillOptions): Promise<AwsDrillResult> {
  const log = o.log ?? (() => {});
  const now = o.now ?? (() => new Date());
  const started = now();
  const pollMs = o.pollMs ?? 30_000;
  const timeoutMs = o.timeoutMs ?? 90 * 60_000;
  const tempId = o.tempInstanceId ?? `${o.sourceInstanceId}-drill-${stamp(started)}`.slice(0, 63);
  const result: AwsDrillResult = {
    kind: 'pgkit-drill-aws',
    ok: false,
    dryRun: Boolean(o.dryRun),
    plan: [],
    sourceInstanceId: o.sourceInstanceId,
    tempInstanceId: tempId,
    restoreKind: o.source.kind,
    restoredTo: null,
    recoveryPointArn: null,
    startedAt: started.toISOString(),
    finishedAt: '',
    rto: { restoreMs: null, verifyMs: null, totalMs: null },
    verification: null,
    cleanup: { attempted: false, deleted: false, error: null },
    failures: [],
  };

  const what = o.source.kind === 'pitr' ? `to ${o.source.restoreTime?.toISOString() ?? 'the latest restorable time'} (RDS point-in-time restore)` : `from ${o.source.recoveryPointArn ?? 'the newest AWS Backup recovery point'}`;
  result.plan = [
    `describe ${o.sourceInstanceId} (subnet group, security groups, parameter group, class)`,
    o.source.kind === 'pitr'
      ? `RestoreDBInstanceToPointInTime ${o.sourceInstanceId} → ${tempId} ${what}, single-AZ, not public, no deletion protection, tagged pgkit:drill`
      : `AWS Backup StartRestoreJob ${what} → ${tempId} (role ${o.source.iamRoleArn}), single-AZ, not public`,
    `wait until ${tempId} is available (poll every ${pollMs / 1000} s, give up after ${timeoutMs / 60000} min)`,
    `verify: core tables (app, audit, ops) with row counts and checksums, roles, RLS and policies, extensions, pg_cron jobs${o.expected ? ', compared with the expected snapshot' : ''}`,
    `DeleteDBInstance ${tempId} (SkipFinalSnapshot, DeleteAutomatedBackups) — also when any step above fails`,
  ];
  if (o.dryRun) {
    result.ok = true;
    result.finishedAt = now().toISOString();
    return result;
  }

  let restoreRequested = false;
  const t0 = performance.now();
  try {
    const src = await describe(o.rds, o.sourceInstanceId);
    if (!src) throw new Error(`source instance ${o.sourceInstanceId} not found in this account/region (check AWS_REGION and --instance)`);
    const placement = {
      DBSubnetGroupName: src.DBSubnetGroup?.DBSubnetGroupName,
      VpcSecurityGroupIds: src.VpcSecurityGroups?.map((g) => g.VpcSecurityGroupId).filter((x): x is string => Boolean(x)),
      DBParameterGroupName: src.DBParameterGroups?.[0]?.DBParameterGroupName,
      DBInstanceClass: o.instanceClass ?? src.DBInstanceClass,
    };
    const tags = [{ Key: 'pgkit:drill', Value: started.toISOString() }];

    if (o.source.kind === 'pitr') {
      log(`restoring ${o.sourceInstanceId} ${what} into ${tempId}`);
      restoreRequested = true;
      await o.rds.send(
        new RestoreDBInstanceToPointInTimeCommand({
          SourceDBInstanceIdentifier: o.sourceInstanceId,
          TargetDBInstanceIdentifier: tempId,
          ...(o.source.restoreTime ? { RestoreTime: o.source.restoreTime } : { UseLatestRestorableTime: true }),
          ...placement,
          MultiAZ: false,
          PubliclyAccessible: false,
          DeletionProtection: false,
          CopyTagsToSnapshot: false,
          Tags: tags,
        }),
      );
      result.restoredTo = o.source.restoreTime?.toISOString() ?? `latest restorable (${src.LatestRestorableTime?.toISOString() ?? 'unknown'})`;
    } else {
      if (!o.backup) throw new Error('the AWS Backup restore needs a Backup client');
      const backupSrc = o.source;
      let rpArn = backupSrc.recoveryPointArn;
      let vault = backupSrc.vaultName;
      if (!rpArn) {
        const r = await o.backup.send(new ListRecoveryPointsByResourceCommand({ ResourceArn: src.DBInstanceArn }));
        const points = ((r.RecoveryPoints ?? []) as Array<{ RecoveryPointArn?: string; CreationDate?: Date; Status?: string; BackupVaultName?: string }>)
          .filter((p) => p.Status === 'COMPLETED')
          .sort((a, b) => (b.CreationDate?.getTime() ?? 0) - (a.CreationDate?.getTime() ?? 0));
        if (!points.length) throw new Error(`no completed AWS Backup recovery point for ${o.sourceInstanceId}: has the backup plan run yet?`);
        rpArn = points[0].RecoveryPointArn!;
        vault = points[0].BackupVaultName;
        result.restoredTo = points[0].CreationDate?.toISOString() ?? null;
      }
      if (!vault) throw new Error('--vault is needed with --recovery-point');
      result.recoveryPointArn = rpArn;
      const meta = await o.backup.send(new GetRecoveryPointRestoreMetadataCommand({ BackupVaultName: vault, RecoveryPointArn: rpArn }));
      const metadata: Record<string, string> = {
        ...(meta.RestoreMetadata ?? {}),
        DBInstanceIdentifier: tempId,
        MultiAZ: 'false',
        PubliclyAccessible: 'false',
        DeletionProtection: 'false',
        ...(placement.DBSubnetGroupName ? { DBSubnetGroupName: placement.DBSubnetGroupName } : {}),
        ...(placement.VpcSecurityGroupIds?.length ? { VpcSecurityGroupIds: JSON.stringify(placement.VpcSecurityGroupIds) } : {}),
        ...(placement.DBParameterGroupName ? { DBParameterGroupName: placement.DBParameterGroupName } : {}),
        ...(placement.DBInstanceClass ? { DBInstanceClass: placement.DBInstanceClass } : {}),
      };
      log(`restoring ${rpArn} into ${tempId} with AWS Backup`);
      restoreRequested = true;
      const job = await o.backup.send(new StartRestoreJobCommand({ RecoveryPointArn: rpArn, IamRoleArn: backupSrc.iamRoleArn, Metadata: metadata, ResourceType: 'RDS' }));
      const until = Date.now() + timeoutMs;
      for (;;) {
        const j = await o.backup.send(new DescribeRestoreJobCommand({ RestoreJobId: job.RestoreJobId }));
        if (j.Status === 'COMPLETED') break;
        if (j.Status === 'ABORTED' || j.Status === 'FAILED') throw new Error(`AWS Backup restore job ${job.RestoreJobId} ${j.Status}: ${j.StatusMessage ?? 'no message'}`);
        if (Date.now() > until) throw new Error(`AWS Backup restore job ${job.RestoreJobId} did not finish within ${timeoutMs / 60000} min`);
        await sleep(pollMs);
      }
    }

    const db = await waitAvailable(o.rds, tempId, pollMs, timeoutMs, log);
    result.rto.restoreMs = performance.now() - t0;
    const endpoint = { host: db.Endpoint!.Address!, port: db.Endpoint!.Port ?? 5432 };
    log(`verifying ${endpoint.host}:${endpoint.port}`);
    const v0 = performance.now();
    const creds = o.credentials ? await o.credentials(src) : null;
    if (o.verify) result.verification = await o.verify(endpoint, creds);
    else {
      if (!creds) throw new Error('no credentials for the restored instance: pass --secret-arn or PGKIT_AWS_DB_PASSWORD');
      result.verification = await verifyWithPg(endpoint, creds, o.expected, o.compareContents);
    }
    result.rto.verifyMs = performance.now() - v0;
    result.rto.totalMs = performance.now() - t0;
    result.failures.push(...result.verification.failures);
  } catch (e) {
    result.failures.push((e as Error).message);
    log(`FAILED: ${(e as Error).message}`);
  } finally {
    if (restoreRequested) {
      result.cleanup.attempted = true;
      try {
        log(`deleting the temporary instance ${tempId}`);
        // An instance still being created or modified refuses deletion for a while: retry until it accepts.
        const until = Date.now() + timeoutMs;
        for (;;) {
          try {
            await o.rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: tempId, SkipFinalSnapshot: true, DeleteAutomatedBackups: true }));
            break;
          } catch (e) {
            if (errName(e) !== 'InvalidDBInstanceStateFault' || Date.now() > until) throw e;
            log(`  ${tempId} cannot be deleted in its current state yet; retrying`);
            await sleep(pollMs);
          }
        }
        result.cleanup.deleted = true;
      } catch (e) {
        if (errName(e) === 'DBInstanceNotFoundFault' || errName(e) === 'DBInstanceNotFound') {
          result.cleanup.deleted = true; // the restore never created it
        } else {
          result.cleanup.error = `${(e as Error).message} — DELETE IT BY HAND: aws rds delete-db-instance --db-instance-identifier ${tempId} --skip-final-snapshot --delete-automated-backups`;
          result.failures.push(`clean-up failed: ${result.cleanup.error}`);
        }
      }
    }
  }
  result.ok = result.failures.length === 0;
  result.finishedAt = now().toISOString();
  return result;
}

export function renderAwsMarkdown(r: AwsDrillResult): string {
  const s = (ms: number | null) => (ms === null ? '-' : `${(ms / 60000).toFixed(1)} min`);
  const L = [
    `# pgkit AWS drill — ${r.dryRun ? 'DRY RUN' : r.ok ? 'PASSED' : 'FAILED'}`,
    '',
    `Source ${r.sourceInstanceId}, temporary instance ${r.tempInstanceId}, ${r.restoreKind === 'pitr' ? 'RDS point-in-time restore' : 'AWS Backup restore'}${r.restoredTo ? ` to ${r.restoredTo}` : ''}. ${r.startedAt} → ${r.finishedAt}.`,
    '',
    '## Plan',
    '',
    ...r.plan.map((p, i) => `${i + 1}. ${p}`),
  ];
  if (!r.dryRun) {
    L.push('', '## Result', '', `- RTO ${s(r.rto.totalMs)} (restore until available ${s(r.rto.restoreMs)}, verification ${s(r.rto.verifyMs)}).`);
    if (r.verification?.summary) {
      const v = r.verification.summary;
      L.push(`- Verified: ${v.tables} core tables / ${v.rows} rows, ${v.roles} roles, ${v.rlsTables} tables with RLS, ${v.policies} policies, ${v.extensions} extensions, ${v.cronJobs ?? 'no'} pg_cron jobs; TLS ${r.verification.tlsVerified ? 'verified against the RDS CA' : 'NOT verified (pass --ca)'}.`);
    }
    L.push(`- Temporary instance deleted: ${r.cleanup.deleted ? 'yes' : `NO${r.cleanup.error ? ` — ${r.cleanup.error}` : ''}`}.`);
    if (r.failures.length) L.push('', '## Failures', '', ...r.failures.map((f) => `- ${f}`));
  }
  return L.join('\n') + '\n';
}
