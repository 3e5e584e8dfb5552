// The AWS drill: restore the RDS instance to a point in time (RDS PITR, also from the retained automated
// backups of a deleted source) or from an AWS Backup recovery point of the stack's vault into a TEMPORARY
// instance, give it its own master password, verify it (marker rows around the target, structure compared
// with the source, pg_cron paused first, under a deadline), report the RTO in phases, and delete the
// temporary instance — only that instance, and only when this run created it.
// The AWS clients are passed in (anything with send(command)): the script gives SDK clients on the default
// credential provider chain; the tests give fakes that enforce AWS's rules (test/drills/awsFakes.ts).
//
// AWS rules this file depends on (RDS and AWS Backup API references; the same text is in the doc comments
// of node_modules/@aws-sdk/client-rds/dist-types/models/models_1.d.ts):
//  - A restored instance keeps the master user and password of its restore point and gets no managed secret;
//    RestoreDBInstanceToPointInTime's ManageMasterUserPassword "Applies to RDS for Oracle only". So the drill
//    sets the temporary instance's password with ModifyDBInstance (MasterUserPassword, ApplyImmediately) and
//    waits until PendingModifiedValues no longer holds MasterUserPassword.
//  - DB instance identifiers: 1-63 letters, digits or hyphens, first a letter, no trailing or double hyphen.
//  - DescribeDBInstances pages with Marker (MaxRecords 20-100) and cannot filter on tags.
//  - AWS Backup has no call that stops a restore job: the drill waits for the job to end.
import { X509Certificate, randomBytes } from 'node:crypto';
import { connect as netConnect } from 'node:net';
import { checkServerIdentity } from 'node:tls';
import {
  AddTagsToResourceCommand,
  DeleteDBInstanceCommand,
  DescribeDBInstanceAutomatedBackupsCommand,
  DescribeDBInstancesCommand,
  DescribeEventsCommand,
  ModifyDBInstanceCommand,
  RebootDBInstanceCommand,
  RestoreDBInstanceToPointInTimeCommand,
  type DBInstance,
} from '@aws-sdk/client-rds';
import { DescribeRestoreJobCommand, GetRecoveryPointRestoreMetadataCommand, ListRecoveryPointsByBackupVaultCommand, StartRestoreJobCommand } from '@aws-sdk/client-backup';
import pg from 'pg';
import { compareSnapshots, snapshot, summarize, checkMarkersAtTarget, type DatabaseSnapshot, type Marker, type MarkerCheck } from './verify.js';
import { DRILL_SCHEMA, ensureDrillTables } from './load.js';

/** What the drill needs of an AWS SDK v3 client. */
export interface AwsSender {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  send(command: any): Promise<any>;
}

export type AwsRestoreSource =
  | { kind: 'pitr'; /** default: a target the drill places between its marker rows, else the latest restorable time */ restoreTime?: Date }
  | { kind: 'backup'; /** the stack's vault (stack output backupVaultName) */ vaultName: string; /** default: the newest completed point of the instance in that vault */ recoveryPointArn?: string; iamRoleArn: string };

/** Writes marker rows on the SOURCE (pgkit_drill.markers): the one write the drill makes to production. */
export interface MarkerSource {
  write(runId: string, seq: number): Promise<Marker>;
  /** Called once both rows are written (the connection to production is not kept through the restore). */
  close?(): Promise<void>;
}

export type TlsMode = { ca: string } | { insecure: true };

export interface VerifyTarget {
  /** Where to connect (the endpoint, or the local end of an SSM port-forward). */
  host: string;
  port: number;
  /** The RDS endpoint the certificate must name (differs from host behind a tunnel). */
  serverName: string;
  user: string;
  password: string;
  database: string;
  tls: TlsMode;
}

export interface AwsVerification {
  ok: boolean;
  failures: string[];
  summary: ReturnType<typeof summarize> | null;
  tlsVerified: boolean;
  markers: MarkerCheck | null;
  cronPaused: number | null;
  firstQueryMs: number | null;
}

export interface PreflightChecks {
  /** The credentials the clients use: when they expire and whether their provider refreshes them. */
  credentials?: () => Promise<{ expiration?: Date; refreshes: boolean; source: string }>;
  /** TCP reachability of host:port (default: a TCP connect). */
  reach?: (host: string, port: number) => Promise<void>;
}

export interface AwsDrillOptions {
  rds: AwsSender;
  backup?: AwsSender;
  /** The source's identifier (also for a deleted source: its name, for naming and tags). */
  sourceInstanceId: string;
  /** A deleted source: restore from its retained automated backups (needs `placement`). */
  sourceDbiResourceId?: string;
  /** Subnet group, security groups, parameter group; default the source's (required for a deleted source). */
  placement?: { subnetGroup?: string; securityGroupIds?: string[]; parameterGroup?: string };
  source: AwsRestoreSource;
  /** Default: <source>-drill-<yyyymmddhhmmss>. */
  tempInstanceId?: string;
  instanceClass?: string;
  /** Unique per run (tag pgkit:drill-run); default random. */
  runId?: string;
  dryRun?: boolean;
  database: string;
  tls: TlsMode;
  /** Connect here instead of the endpoint (the local end of `aws ssm start-session ... PortForwardingSessionToRemoteHost`). */
  connectVia?: { host: string; port: number };
  /**
   * Opens a port-forward to a remote host and port (the script: `aws ssm start-session` through the bastion).
   * Opened only when needed — in the preflight to the source, then to the temporary instance once it is ready —
   * because Session Manager ends idle sessions (default 20 min) long before a restore is done.
   */
  tunnel?: { open(remoteHost: string, remotePort: number): Promise<{ host: string; port: number; close(): Promise<void> }> };
  /** Structure of the source (roles, RLS, policies, extensions, pg_cron jobs, table names; no row reads). */
  expected?: DatabaseSnapshot;
  markers?: MarkerSource;
  /** Orphans of earlier runs (tag pgkit:drill): reported; with 'remove', those of this source deleted. */
  sweep?: 'report' | 'remove';
  preflight?: PreflightChecks;
  /** Replaces the pg verification (tests). */
  verify?: (t: VerifyTarget, ctx: { runId: string; markers: Marker[]; target: Date | null; deadlineMs: number }) => Promise<AwsVerification>;
  /** Aborted on SIGINT/SIGTERM: the drill stops waiting and cleans up. */
  signal?: AbortSignal;
  pollMs?: number;
  /** Restore until available. */
  timeoutMs?: number;
  verifyTimeoutMs?: number;
  /** How long clean-up may wait (deletion, a restore job still running). */
  cleanupTimeoutMs?: number;
  /** Waiting for LatestRestorableTime to pass the marker written after the target (RDS uploads WAL about every 5 min). */
  markerWaitMs?: number;
  markerGapMs?: number;
  retry?: { attempts: number; baseMs: number };
  log?: (l: string) => void;
  now?: () => Date;
  password?: () => string;
}

export interface AwsDrillResult {
  kind: 'pgkit-drill-aws';
  ok: boolean;
  dryRun: boolean;
  runId: string;
  plan: string[];
  sourceInstanceId: string;
  tempInstanceId: string;
  restoreKind: AwsRestoreSource['kind'];
  restoredTo: string | null;
  recoveryPointArn: string | null;
  restoreJobId: string | null;
  startedAt: string;
  finishedAt: string;
  preflight: Array<{ check: string; ok: boolean; detail: string }>;
  orphans: Array<{ id: string; tags: string; removed: boolean }>;
  carriedOver: Record<string, unknown>;
  /** Phases in ms: restore request → available (per RDS events when found), own password applied, first query, verification. */
  rto: { requestToAvailableMs: number | null; availableFrom: 'rds-event' | 'observed' | null; credentialsMs: number | null; firstQueryMs: number | null; verifyMs: number | null; totalMs: number | null };
  verification: AwsVerification | null;
  created: boolean;
  cleanup: { attempted: boolean; deleted: boolean; error: string | null };
  warnings: string[];
  failures: string[];
}

const FAILED_STATES = new Set(['failed', 'incompatible-restore', 'incompatible-parameters', 'incompatible-network', 'storage-full', 'inaccessible-encryption-credentials', 'restore-error']);
const RETRYABLE = new Set(['Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'TooManyRequestsException', 'RequestThrottled', 'ServiceUnavailable', 'InternalFailure', 'InternalError', 'RequestTimeout', 'TimeoutError', 'ECONNRESET', 'ETIMEDOUT']);
export const TAG_DRILL = 'pgkit:drill';
export const TAG_RUN = 'pgkit:drill-run';
export const TAG_SOURCE = 'pgkit:drill-source';

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

function errName(e: unknown): string {
  const x = e as { name?: string; Code?: string; code?: string };
  return x.name ?? x.Code ?? x.code ?? '';
}

const isNotFound = (e: unknown) => ['DBInstanceNotFound', 'DBInstanceNotFoundFault'].includes(errName(e));

/** Throttling and transient errors are worth another try (the SDK retries 3 times itself; this adds patience). */
export function isRetryable(e: unknown): boolean {
  const x = e as { $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  return RETRYABLE.has(errName(e)) || Boolean(x.$retryable) || (x.$metadata?.httpStatusCode ?? 0) >= 500;
}

/** DB instance identifier rules (RDS API reference, TargetDBInstanceIdentifier). */
export function instanceIdProblem(id: string): string | null {
  if (!/^[A-Za-z][A-Za-z0-9-]{0,62}$/.test(id)) return `'${id}' must be 1 to 63 letters, digits or hyphens, starting with a letter`;
  if (id.endsWith('-') || id.includes('--')) return `'${id}' can't end with a hyphen or contain two consecutive hyphens`;
  return null;
}

/** A master password RDS for PostgreSQL accepts: 8-128 printable ASCII, none of / " @ (nor space). */
export function randomPassword(): string {
  return randomBytes(24).toString('base64url'); // 32 chars of [A-Za-z0-9_-]
}

class Interrupted extends Error {}

export async function runAwsDrill(o: AwsDrillOptions): Promise<AwsDrillResult> {
  const log = o.log ?? (() => {});
  const now = o.now ?? (() => new Date());
  const started = now();
  const pollMs = o.pollMs ?? 30_000;
  const timeoutMs = o.timeoutMs ?? 90 * 60_000;
  const verifyTimeoutMs = o.verifyTimeoutMs ?? 20 * 60_000;
  const cleanupTimeoutMs = o.cleanupTimeoutMs ?? 60 * 60_000;
  const runId = o.runId ?? randomBytes(6).toString('hex');
  const retry = o.retry ?? { attempts: 6, baseMs: Math.min(pollMs, 2000) };
  const tempId = o.tempInstanceId ?? defaultTempId(o.sourceInstanceId, started);
  const result: AwsDrillResult = {
    kind: 'pgkit-drill-aws',
    ok: false,
    dryRun: Boolean(o.dryRun),
    runId,
    plan: [],
    sourceInstanceId: o.sourceInstanceId,
    tempInstanceId: tempId,
    restoreKind: o.source.kind,
    restoredTo: null,
    recoveryPointArn: null,
    restoreJobId: null,
    startedAt: started.toISOString(),
    finishedAt: '',
    preflight: [],
    orphans: [],
    carriedOver: {},
    rto: { requestToAvailableMs: null, availableFrom: null, credentialsMs: null, firstQueryMs: null, verifyMs: null, totalMs: null },
    verification: null,
    created: false,
    cleanup: { attempted: false, deleted: false, error: null },
    warnings: [],
    failures: [],
  };

  // ---- helpers bound to this run ----
  const sleep = (ms: number, abortable = true) =>
    new Promise<void>((res, rej) => {
      if (abortable && o.signal?.aborted) return rej(new Interrupted('interrupted (signal): cleaning up'));
      const t = setTimeout(() => (o.signal?.removeEventListener('abort', onAbort), res()), ms);
      const onAbort = () => (clearTimeout(t), rej(new Interrupted('interrupted (signal): cleaning up')));
      if (abortable) o.signal?.addEventListener('abort', onAbort, { once: true });
    });
  async function call<T = any>(client: AwsSender, command: unknown, abortable = true): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await client.send(command);
      } catch (e) {
        if (!isRetryable(e) || attempt >= retry.attempts) throw e;
        const wait = retry.baseMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
        log(`  ${errName(e)} from AWS (attempt ${attempt}/${retry.attempts}); retrying in ${Math.round(wait)} ms`);
        await sleep(wait, abortable);
      }
    }
  }
  async function describe(id: string, abortable = true): Promise<DBInstance | null> {
    try {
      const r = await call(o.rds, new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }), abortable);
      return (r.DBInstances?.[0] as DBInstance | undefined) ?? null;
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }
  const tag = (db: DBInstance | null | undefined, key: string) => db?.TagList?.find((t) => t.Key === key)?.Value;
  const deleteCommand = `aws rds delete-db-instance --db-instance-identifier ${tempId} --skip-final-snapshot --delete-automated-backups`;

  const backupSource = o.source.kind === 'backup' ? o.source : null;
  const explicitTime = o.source.kind === 'pitr' ? o.source.restoreTime : undefined;
  const what = backupSource
    ? `from ${backupSource.recoveryPointArn ?? `the newest completed recovery point in vault ${backupSource.vaultName}`}`
    : `to ${explicitTime?.toISOString() ?? (o.markers ? 'a target between two marker rows written now' : 'the latest restorable time')} (RDS point-in-time restore${o.sourceDbiResourceId ? ` from the retained automated backups of ${o.sourceDbiResourceId}` : ''})`;
  result.plan = [
    `sweep: list DB instances tagged ${TAG_DRILL} left by earlier runs (${o.sweep === 'remove' ? `delete those of ${o.sourceInstanceId}` : 'report only'})`,
    `preflight: ${tempId} is a valid, unused name; the source ${o.sourceDbiResourceId ? 'automated backups exist' : 'exists'}; AWS credentials last the run; the RDS CA parses; ${o.connectVia ? `the tunnel ${o.connectVia.host}:${o.connectVia.port}` : 'the source endpoint'} accepts TCP`,
    ...(o.markers && !explicitTime && !backupSource ? [`write marker rows on the source (${DRILL_SCHEMA}.markers) before and after the target; wait until the latest restorable time passes the second`] : []),
    backupSource
      ? `AWS Backup StartRestoreJob ${what} → ${tempId} (role ${backupSource.iamRoleArn}), single-AZ, not public; tag it ${TAG_DRILL}/${TAG_RUN}=${runId} once created`
      : `RestoreDBInstanceToPointInTime ${o.sourceDbiResourceId ?? o.sourceInstanceId} → ${tempId} ${what}, single-AZ, not public, no deletion protection, tagged ${TAG_DRILL}, ${TAG_RUN}=${runId}`,
    `wait until ${tempId} is available (poll every ${pollMs / 1000} s, give up after ${timeoutMs / 60000} min); reboot if its parameter group is pending-reboot`,
    `set ${tempId}'s own master password (random, kept in memory; ModifyDBInstance ApplyImmediately) and wait until applied`,
    `verify within ${verifyTimeoutMs / 60000} min over TLS (${'ca' in o.tls ? 'verified against the RDS CA' : 'NOT verified'})${o.connectVia ? ` via ${o.connectVia.host}:${o.connectVia.port}` : ''}: pause pg_cron, marker rows, roles, RLS, policies, extensions, pg_cron jobs, core tables${o.expected ? ' compared with the source structure' : ''}`,
    `delete ${tempId} (SkipFinalSnapshot, DeleteAutomatedBackups) only if this run created it (tag ${TAG_RUN}=${runId}), and wait until it is gone — also on failure or SIGINT/SIGTERM`,
  ];
  if (o.dryRun) {
    const bad = instanceIdProblem(tempId);
    if (bad) result.failures.push(`--temp-id ${bad}`);
    result.ok = result.failures.length === 0;
    result.finishedAt = now().toISOString();
    return result;
  }

  let requestedAt = 0;
  let closeTunnel: () => Promise<void> = async () => {};
  let jobId: string | null = null;
  try {
    // ---- sweep ----
    let marker: string | undefined;
    do {
      const page = await call(o.rds, new DescribeDBInstancesCommand({ MaxRecords: 100, ...(marker ? { Marker: marker } : {}) }));
      for (const db of (page.DBInstances ?? []) as DBInstance[]) {
        if (!tag(db, TAG_DRILL) || db.DBInstanceIdentifier === tempId) continue;
        const id = db.DBInstanceIdentifier!;
        const entry = { id, tags: (db.TagList ?? []).map((t) => `${t.Key}=${t.Value}`).join(' '), removed: false };
        result.orphans.push(entry);
        if (o.sweep === 'remove' && tag(db, TAG_SOURCE) === o.sourceInstanceId && id !== o.sourceInstanceId && !db.DeletionProtection && db.DBInstanceStatus !== 'deleting') {
          log(`  removing orphan ${id} (${entry.tags})`);
          try {
            await call(o.rds, new DeleteDBInstanceCommand({ DBInstanceIdentifier: id, SkipFinalSnapshot: true, DeleteAutomatedBackups: true }));
            entry.removed = true; // deletion requested; the next run's sweep no longer lists it once gone
          } catch (e) {
            result.warnings.push(`could not remove orphan ${id}: ${(e as Error).message}`);
          }
        }
      }
      marker = page.Marker;
    } while (marker);
    const kept = result.orphans.filter((x) => !x.removed);
    if (kept.length) result.warnings.push(`${kept.length} instance(s) tagged ${TAG_DRILL} from earlier runs still exist: ${kept.map((x) => x.id).join(', ')} (run again with --remove-orphans, or delete them by hand)`);

    // ---- preflight ----
    const check = (name: string, ok: boolean, detail: string) => result.preflight.push({ check: name, ok, detail });
    const idProblem = instanceIdProblem(tempId);
    // Identifiers are not case-sensitive (RDS API reference, DescribeDBInstances DBInstanceIdentifier).
    const sameAsSource = tempId.toLowerCase() === o.sourceInstanceId.toLowerCase();
    check('temporary instance name', !idProblem && !sameAsSource, idProblem ?? (sameAsSource ? 'equals the source' : tempId));
    if (!tempId.toLowerCase().startsWith(`${o.sourceInstanceId.toLowerCase()}-drill-`)) result.warnings.push(`${tempId} does not start with ${o.sourceInstanceId}-drill-: the drill policy (infra/drillAccess.ts) allows restoring into, changing and deleting only such names`);
    if (!idProblem && !sameAsSource) {
      const existing = await describe(tempId);
      check('temporary instance name unused', !existing, existing ? `${tempId} already exists (${existing.DBInstanceStatus}): choose another --temp-id; the drill never touches an instance it did not create` : 'free');
    }
    let src: DBInstance | null = null;
    let settings: { iam?: boolean; maxStorage?: number; storageType?: string; iops?: number; throughput?: number; lifecycle?: string; latest?: Date; earliest?: Date; user?: string; storageGiB?: number } = {};
    if (o.sourceDbiResourceId) {
      const r = await call(o.rds, new DescribeDBInstanceAutomatedBackupsCommand({ DbiResourceId: o.sourceDbiResourceId }));
      const b = r.DBInstanceAutomatedBackups?.[0];
      check('retained automated backups', Boolean(b), b ? `${b.DBInstanceIdentifier} (${b.Status}), restorable ${b.RestoreWindow?.EarliestTime?.toISOString()} .. ${b.RestoreWindow?.LatestTime?.toISOString()}` : `none for ${o.sourceDbiResourceId} in this region`);
      const p = o.placement;
      check('placement for a deleted source', Boolean(p?.subnetGroup && p.securityGroupIds?.length && p.parameterGroup), 'a deleted source has no subnet group, security groups or parameter group to copy: pass --subnet-group, --security-group-ids and --parameter-group (pulumi stack output)');
      if (b) settings = { iam: b.IAMDatabaseAuthenticationEnabled, storageType: b.StorageType, iops: b.Iops, throughput: b.StorageThroughput, latest: b.RestoreWindow?.LatestTime, earliest: b.RestoreWindow?.EarliestTime, user: b.MasterUsername, storageGiB: b.AllocatedStorage };
    } else {
      src = await describe(o.sourceInstanceId);
      check('source instance', Boolean(src), src ? `${src.DBInstanceStatus}, ${src.Engine} ${src.EngineVersion ?? ''}`.trim() : `${o.sourceInstanceId} not found in this account/region (check AWS_REGION and --instance; for a deleted source use --source-dbi-resource-id)`);
      if (src) settings = { iam: src.IAMDatabaseAuthenticationEnabled, maxStorage: src.MaxAllocatedStorage, storageType: src.StorageType, iops: src.Iops, throughput: src.StorageThroughput, lifecycle: src.EngineLifecycleSupport, latest: src.LatestRestorableTime, user: src.MasterUsername, storageGiB: src.AllocatedStorage };
    }
    if (explicitTime && settings.latest) {
      const inside = explicitTime <= settings.latest && (!settings.earliest || explicitTime >= settings.earliest);
      check('restore time in the restore window', inside, `${explicitTime.toISOString()} vs latest restorable ${settings.latest.toISOString()}`);
    }
    if (o.preflight?.credentials) {
      const c = await o.preflight.credentials();
      const needed = new Date(now().getTime() + (o.markers ? o.markerWaitMs ?? 15 * 60_000 : 0) + timeoutMs + verifyTimeoutMs + cleanupTimeoutMs);
      const ok = c.refreshes || !c.expiration || c.expiration >= needed;
      check('AWS credentials last the run', ok, ok ? `${c.source}${c.refreshes ? ' (refreshed by the provider)' : ''}${c.expiration ? `, expire ${c.expiration.toISOString()}` : ''}` : `${c.source} credentials expire ${c.expiration!.toISOString()}, before the worst-case end of the run ${needed.toISOString()}, and nothing refreshes them: use a profile with role_arn or SSO (aws configure sso) so the default chain refreshes them, or a longer session`);
    }
    if ('ca' in o.tls) {
      let n = 0;
      let err = '';
      for (const pem of o.tls.ca.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []) {
        try {
          new X509Certificate(pem);
          n++;
        } catch (e) {
          err = (e as Error).message;
        }
      }
      check('RDS CA bundle', n > 0 && !err, n ? `${n} certificates` : `no certificate in the CA file${err ? `: ${err}` : ''}`);
    } else result.warnings.push('TLS is NOT verified (--insecure-tls): the report cannot prove it talked to the restored instance');
    if (backupSource) {
      check('AWS Backup client', Boolean(o.backup), 'the AWS Backup restore needs a Backup client');
      check('restore role', /^arn:aws[a-z-]*:iam::\d{12}:role\//.test(backupSource.iamRoleArn), `${backupSource.iamRoleArn} (stack output drillRestoreRoleArn)`);
    }
    let reachHost = o.connectVia?.host ?? src?.Endpoint?.Address;
    let reachPort = o.connectVia?.port ?? src?.Endpoint?.Port ?? 5432;
    let probe: { host: string; port: number; close(): Promise<void> } | undefined;
    if (o.tunnel && src?.Endpoint?.Address) {
      try {
        probe = await o.tunnel.open(src.Endpoint.Address, src.Endpoint.Port ?? 5432);
        ({ host: reachHost, port: reachPort } = probe);
      } catch (e) {
        check('tunnel', false, `could not open the SSM port-forward to ${src.Endpoint.Address}: ${(e as Error).message}`);
        reachHost = undefined;
      }
    }
    if (reachHost) {
      try {
        await (o.preflight?.reach ?? tcpReach)(reachHost, reachPort);
        check('reachability', true, `${reachHost}:${reachPort} accepts TCP`);
      } catch (e) {
        check('reachability', false, `${reachHost}:${reachPort}: ${(e as Error).message}. From outside the VPC pass --tunnel-via <bastionInstanceId>, or open an SSM port-forward and pass --host 127.0.0.1 --port <local port>: ${ssmTunnelCommand(predictedEndpoint(tempId, src?.Endpoint?.Address), src?.Endpoint?.Port ?? 5432, o.connectVia?.port ?? 15432)} (docs/drills.md)`);
      } finally {
        await probe?.close();
      }
    }
    const bad = result.preflight.filter((c) => !c.ok);
    if (bad.length) throw new Error(`preflight failed, nothing was restored: ${bad.map((c) => `${c.check}: ${c.detail}`).join('; ')}`);

    // ---- markers around the target ----
    const markers: Marker[] = [];
    let target: Date | null = explicitTime ?? null;
    if (o.markers && !explicitTime && !backupSource) {
      const gap = o.markerGapMs ?? 2000;
      try {
        markers.push(await o.markers.write(runId, 1));
        await sleep(gap);
        target = now();
        await sleep(gap);
        markers.push(await o.markers.write(runId, 2));
      } finally {
        await o.markers.close?.();
      }
      log(`  markers written; target ${target.toISOString()}; waiting for the latest restorable time to pass the second marker`);
      const until = Date.now() + (o.markerWaitMs ?? 15 * 60_000);
      for (;;) {
        const s = await describe(o.sourceInstanceId);
        if ((s?.LatestRestorableTime?.getTime() ?? 0) >= markers[1].ackedAt) break;
        if (Date.now() > until) throw new Error(`the latest restorable time of ${o.sourceInstanceId} did not pass the marker written after the target within ${(o.markerWaitMs ?? 900_000) / 60000} min`);
        await sleep(pollMs);
      }
    } else if (!backupSource) result.warnings.push('no marker rows (--marker-url not given, or --time chosen): the report proves structure, not the restore time');
    else result.warnings.push('AWS Backup path: no marker rows (a recovery point is taken on its schedule); the report proves structure, not the restore time');

    // ---- restore ----
    const tags = [
      { Key: TAG_DRILL, Value: started.toISOString() },
      { Key: TAG_RUN, Value: runId },
      { Key: TAG_SOURCE, Value: o.sourceInstanceId },
    ];
    const placement = {
      DBSubnetGroupName: o.placement?.subnetGroup ?? src?.DBSubnetGroup?.DBSubnetGroupName,
      VpcSecurityGroupIds: o.placement?.securityGroupIds ?? src?.VpcSecurityGroups?.map((g) => g.VpcSecurityGroupId).filter((x): x is string => Boolean(x)),
      DBParameterGroupName: o.placement?.parameterGroup ?? src?.DBParameterGroups?.[0]?.DBParameterGroupName,
      DBInstanceClass: o.instanceClass ?? src?.DBInstanceClass,
    };
    const carried = {
      ...(settings.iam !== undefined ? { EnableIAMDatabaseAuthentication: settings.iam } : {}),
      ...(settings.maxStorage ? { MaxAllocatedStorage: settings.maxStorage } : {}),
      ...(settings.storageType ? { StorageType: settings.storageType } : {}),
      // gp3 for PostgreSQL below 400 GiB has fixed baseline IOPS/throughput that cannot be specified (RDS User
      // Guide, "Amazon RDS DB instance storage", gp3 storage); io1/io2 always take their IOPS.
      ...(settings.iops && (['io1', 'io2'].includes(settings.storageType ?? '') || (settings.storageType === 'gp3' && (settings.storageGiB ?? 0) >= 400)) ? { Iops: settings.iops } : {}),
      ...(settings.throughput && settings.storageType === 'gp3' && (settings.storageGiB ?? 0) >= 400 ? { StorageThroughput: settings.throughput } : {}),
      ...(settings.lifecycle ? { EngineLifecycleSupport: settings.lifecycle } : {}),
    };
    result.carriedOver = { ...placement, ...carried };
    requestedAt = Date.now();
    if (!backupSource) {
      log(`restoring ${o.sourceDbiResourceId ?? o.sourceInstanceId} ${what} into ${tempId}`);
      try {
        const r = await call(
          o.rds,
          new RestoreDBInstanceToPointInTimeCommand({
            ...(o.sourceDbiResourceId ? { SourceDbiResourceId: o.sourceDbiResourceId } : { SourceDBInstanceIdentifier: o.sourceInstanceId }),
            TargetDBInstanceIdentifier: tempId,
            ...(target ? { RestoreTime: target } : { UseLatestRestorableTime: true }),
            ...placement,
            ...carried,
            MultiAZ: false,
            PubliclyAccessible: false,
            DeletionProtection: false,
            CopyTagsToSnapshot: false,
            Tags: tags,
          }),
        );
        result.created = r.DBInstance?.DBInstanceIdentifier === tempId;
      } catch (e) {
        // Usually nothing was created. But an attempt whose answer was lost (network, 5xx) may have created it,
        // and the retry then reads DBInstanceAlreadyExists: the instance is ours only if it carries this run's
        // tag (the name was free in the preflight and the run id is unique).
        const maybe = await describe(tempId, false).catch(() => null);
        result.created = tag(maybe, TAG_RUN) === runId;
        throw e;
      }
      result.restoredTo = target?.toISOString() ?? `latest restorable (${settings.latest?.toISOString() ?? 'unknown'})`;
    } else {
      const backup = o.backup!;
      let rpArn = backupSource.recoveryPointArn;
      if (!rpArn) {
        const arn = src?.DBInstanceArn;
        const points: Array<{ RecoveryPointArn?: string; CreationDate?: Date; Status?: string }> = [];
        let next: string | undefined;
        do {
          const r = await call(backup, new ListRecoveryPointsByBackupVaultCommand({ BackupVaultName: backupSource.vaultName, ByResourceArn: arn, MaxResults: 100, ...(next ? { NextToken: next } : {}) }));
          points.push(...(r.RecoveryPoints ?? []));
          next = r.NextToken;
        } while (next);
        const done = points.filter((p) => p.Status === 'COMPLETED').sort((a, b) => (b.CreationDate?.getTime() ?? 0) - (a.CreationDate?.getTime() ?? 0));
        if (!done.length) throw new Error(`no completed recovery point of ${o.sourceInstanceId} in vault ${backupSource.vaultName}: has the backup plan run yet?`);
        rpArn = done[0].RecoveryPointArn!;
        result.restoredTo = done[0].CreationDate?.toISOString() ?? null;
      }
      result.recoveryPointArn = rpArn;
      const meta = await call(backup, new GetRecoveryPointRestoreMetadataCommand({ BackupVaultName: backupSource.vaultName, RecoveryPointArn: rpArn }));
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
        ...(settings.iam !== undefined ? { EnableIAMDatabaseAuthentication: String(settings.iam) } : {}),
      };
      log(`restoring ${rpArn} into ${tempId} with AWS Backup`);
      const job = await call(backup, new StartRestoreJobCommand({ RecoveryPointArn: rpArn, IamRoleArn: backupSource.iamRoleArn, Metadata: metadata, ResourceType: 'RDS' }));
      jobId = job.RestoreJobId as string;
      result.restoreJobId = jobId;
      const end = await waitJob(jobId, timeoutMs, true);
      if (end.Status === 'ABORTED' || end.Status === 'FAILED') throw new Error(`AWS Backup restore job ${jobId} ${end.Status}: ${end.StatusMessage ?? 'no message'}`);
      if (end.Status !== 'COMPLETED') throw new Error(`AWS Backup restore job ${jobId} did not finish within ${timeoutMs / 60000} min (still ${end.Status})`);
      await adoptJobResult(end);
    }

    // ---- available ----
    let db = await waitAvailable(tempId, timeoutMs);
    const observedAvailable = Date.now();
    const pgStatus = db.DBParameterGroups?.[0]?.ParameterApplyStatus;
    if (pgStatus === 'pending-reboot') {
      log(`  parameter group ${db.DBParameterGroups?.[0]?.DBParameterGroupName} is pending-reboot: rebooting ${tempId}`);
      await call(o.rds, new RebootDBInstanceCommand({ DBInstanceIdentifier: tempId }));
      await sleep(pollMs);
      db = await waitAvailable(tempId, timeoutMs);
    }
    result.carriedOver.parameterApplyStatus = db.DBParameterGroups?.[0]?.ParameterApplyStatus ?? null;
    result.rto.requestToAvailableMs = observedAvailable - requestedAt;
    result.rto.availableFrom = 'observed';
    try {
      const ev = await call(o.rds, new DescribeEventsCommand({ SourceIdentifier: tempId, SourceType: 'db-instance', StartTime: new Date(requestedAt) }));
      const done = ((ev.Events ?? []) as Array<{ Date?: Date; Message?: string; EventCategories?: string[] }>)
        .filter((e) => e.Date && (/restored|restore.*(complete|finished)/i.test(e.Message ?? '') || e.EventCategories?.includes('restoration')))
        .map((e) => e.Date!.getTime())
        .filter((t) => t >= requestedAt && t <= observedAvailable);
      if (done.length) {
        result.rto.requestToAvailableMs = Math.max(...done) - requestedAt;
        result.rto.availableFrom = 'rds-event';
      }
    } catch (e) {
      result.warnings.push(`DescribeEvents failed (${errName(e)}): the restore phase is the time the drill saw 'available'`);
    }

    // ---- own credentials ----
    const c0 = performance.now();
    const password = (o.password ?? randomPassword)();
    await call(o.rds, new ModifyDBInstanceCommand({ DBInstanceIdentifier: tempId, MasterUserPassword: password, ApplyImmediately: true, ...(db.MasterUserSecret ? { ManageMasterUserPassword: false } : {}) }));
    await sleep(pollMs);
    db = await waitAvailable(tempId, timeoutMs, (x) => !x.PendingModifiedValues?.MasterUserPassword);
    result.rto.credentialsMs = performance.now() - c0;

    // ---- verification ----
    const endpoint = db.Endpoint!;
    let via = o.connectVia;
    if (o.tunnel) {
      const tn = await o.tunnel.open(endpoint.Address!, endpoint.Port ?? 5432);
      closeTunnel = () => tn.close();
      via = { host: tn.host, port: tn.port };
    }
    const t: VerifyTarget = {
      host: via?.host ?? endpoint.Address!,
      port: via?.port ?? endpoint.Port ?? 5432,
      serverName: endpoint.Address!,
      user: db.MasterUsername ?? settings.user ?? 'pgkit_admin',
      password,
      database: o.database,
      tls: o.tls,
    };
    log(`verifying ${t.serverName} via ${t.host}:${t.port}`);
    const v0 = performance.now();
    const ctx = { runId, markers, target, deadlineMs: verifyTimeoutMs };
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, rej) => {
      timer = setTimeout(() => rej(new Error(`verification did not finish within ${verifyTimeoutMs / 60000} min`)), verifyTimeoutMs);
    });
    try {
      const interrupted = new Promise<never>((_, rej) => o.signal?.addEventListener('abort', () => rej(new Interrupted('interrupted (signal) during verification: cleaning up')), { once: true }));
      if (o.signal?.aborted) throw new Interrupted('interrupted (signal): cleaning up');
      result.verification = await Promise.race([(o.verify ?? ((x, c) => verifyWithPg(x, { ...c, expected: o.expected })))(t, ctx), deadline, interrupted]);
    } finally {
      clearTimeout(timer);
    }
    result.rto.verifyMs = performance.now() - v0;
    result.rto.firstQueryMs = result.verification.firstQueryMs;
    result.rto.totalMs = Date.now() - requestedAt;
    result.failures.push(...result.verification.failures);
  } catch (e) {
    result.failures.push((e as Error).message);
    log(`FAILED: ${(e as Error).message}`);
  } finally {
    await closeTunnel().catch(() => {});
    await cleanUp();
  }
  result.ok = result.failures.length === 0;
  result.finishedAt = now().toISOString();
  return result;

  // ---- waits and clean-up ----
  async function waitAvailable(id: string, ms: number, extra: (db: DBInstance) => boolean = () => true): Promise<DBInstance> {
    const until = Date.now() + ms;
    let last = '';
    while (Date.now() < until) {
      const db = await describe(id);
      const status = db?.DBInstanceStatus ?? 'not yet visible';
      if (status !== last) log(`  ${id}: ${status}`);
      last = status;
      if (db && status === 'available' && db.Endpoint?.Address && extra(db)) return db;
      if (FAILED_STATES.has(status)) throw new Error(`the temporary instance ${id} ended in state '${status}': see its events (aws rds describe-events --source-type db-instance --source-identifier ${id})`);
      await sleep(pollMs);
    }
    throw new Error(`the temporary instance ${id} was not ready within ${Math.round(ms / 60000)} min (last state: ${last}); raise --timeout-min or look at its events`);
  }

  async function waitJob(id: string, ms: number, abortable: boolean): Promise<{ Status?: string; StatusMessage?: string; CreatedResourceArn?: string }> {
    const until = Date.now() + ms;
    for (;;) {
      const j = await call(o.backup!, new DescribeRestoreJobCommand({ RestoreJobId: id }), abortable);
      if (['COMPLETED', 'ABORTED', 'FAILED'].includes(j.Status)) return j;
      if (Date.now() > until) return j;
      await sleep(pollMs, abortable);
    }
  }

  async function adoptJobResult(j: { CreatedResourceArn?: string }) {
    // The job created the instance named in CreatedResourceArn; it is ours only if that is the temporary name.
    if (!j.CreatedResourceArn?.endsWith(`:db:${tempId}`)) throw new Error(`restore job ${jobId} created ${j.CreatedResourceArn ?? 'nothing it names'}, not ${tempId}: not touching it`);
    result.created = true;
    await call(o.rds, new AddTagsToResourceCommand({ ResourceName: j.CreatedResourceArn, Tags: [{ Key: TAG_DRILL, Value: started.toISOString() }, { Key: TAG_RUN, Value: runId }, { Key: TAG_SOURCE, Value: o.sourceInstanceId }] }), false);
  }

  async function cleanUp() {
    try {
      // An AWS Backup job still running may create the instance later: wait for it to end (it cannot be stopped).
      if (jobId && !result.created) {
        result.cleanup.attempted = true;
        log(`  waiting for restore job ${jobId} to end before cleaning up (AWS Backup cannot stop a restore job)`);
        const j = await waitJob(jobId, cleanupTimeoutMs, false);
        if (j.Status === 'COMPLETED') await adoptJobResult(j);
        else if (j.Status !== 'ABORTED' && j.Status !== 'FAILED') {
          result.cleanup.error = `restore job ${jobId} is still ${j.Status} after ${cleanupTimeoutMs / 60000} min; when it completes it creates ${tempId}: then ${deleteCommand}`;
          result.failures.push(`clean-up incomplete: ${result.cleanup.error}`);
          return;
        } else {
          result.cleanup.deleted = false;
          result.cleanup.error = null;
          log(`  restore job ${jobId} ${j.Status}: it created nothing`);
          return;
        }
      }
      if (!result.created) return;
      result.cleanup.attempted = true;
      const db = await describe(tempId, false);
      if (!db) {
        result.cleanup.deleted = true;
        return;
      }
      if (tag(db, TAG_RUN) !== runId || tempId.toLowerCase() === o.sourceInstanceId.toLowerCase()) {
        result.cleanup.error = `${tempId} does not carry ${TAG_RUN}=${runId}: not deleting an instance this run cannot prove it created`;
        result.failures.push(`clean-up refused: ${result.cleanup.error}`);
        return;
      }
      log(`deleting the temporary instance ${tempId}`);
      const until = Date.now() + cleanupTimeoutMs;
      for (;;) {
        try {
          await call(o.rds, new DeleteDBInstanceCommand({ DBInstanceIdentifier: tempId, SkipFinalSnapshot: true, DeleteAutomatedBackups: true }), false);
          break;
        } catch (e) {
          if (isNotFound(e)) break;
          if (errName(e) !== 'InvalidDBInstanceState' && errName(e) !== 'InvalidDBInstanceStateFault') throw e;
          if (Date.now() > until) throw e;
          const d = await describe(tempId, false);
          if (!d) break;
          log(`  ${tempId} cannot be deleted while ${d.DBInstanceStatus}; retrying`);
          await sleep(pollMs, false);
        }
      }
      // "Deleted" only once DescribeDBInstances no longer finds it.
      for (;;) {
        const d = await describe(tempId, false);
        if (!d) break;
        if (Date.now() > until) throw new Error(`${tempId} still exists (${d.DBInstanceStatus}) ${cleanupTimeoutMs / 60000} min after the delete request`);
        await sleep(pollMs, false);
      }
      result.cleanup.deleted = true;
      log(`  ${tempId} is gone`);
    } catch (e) {
      result.cleanup.error = `${(e as Error).message} — DELETE IT BY HAND: ${deleteCommand}`;
      result.failures.push(`clean-up failed: ${result.cleanup.error}`);
    }
  }
}

/** The temporary instance's endpoint: RDS endpoints are <identifier>.<account-and-region hash>.<region>.rds.amazonaws.com. */
export function predictedEndpoint(tempId: string, sourceEndpoint: string | undefined): string {
  return sourceEndpoint ? `${tempId.toLowerCase()}.${sourceEndpoint.split('.').slice(1).join('.')}` : `${tempId.toLowerCase()}.<hash>.<region>.rds.amazonaws.com`;
}

/** The SSM port-forward through the bastion (stack output bastionInstanceId) to a private RDS endpoint, as `aws` arguments. */
export function ssmTunnelArgs(remoteHost: string, remotePort: number, localPort: number, bastion = '<bastionInstanceId>'): string[] {
  return ['ssm', 'start-session', '--target', bastion, '--document-name', 'AWS-StartPortForwardingSessionToRemoteHost', '--parameters', JSON.stringify({ host: [remoteHost], portNumber: [String(remotePort)], localPortNumber: [String(localPort)] })];
}

export function ssmTunnelCommand(remoteHost: string, remotePort: number, localPort: number, bastion = '<bastionInstanceId>'): string {
  return `aws ${ssmTunnelArgs(remoteHost, remotePort, localPort, bastion).map((a) => (a.startsWith('{') ? `'${a}'` : a)).join(' ')}`;
}

/** The default temporary instance name: <source>-drill-<yyyymmddhhmmss>, within the 63-character limit. */
export function defaultTempId(sourceInstanceId: string, at: Date): string {
  return `${sourceInstanceId}-drill-${stamp(at)}`.slice(0, 63).replace(/-+$/, '');
}

async function tcpReach(host: string, port: number, timeoutMs = 5000): Promise<void> {
  await new Promise<void>((res, rej) => {
    const s = netConnect({ host, port });
    const t = setTimeout(() => (s.destroy(), rej(new Error(`no TCP connection within ${timeoutMs / 1000} s`))), timeoutMs);
    s.once('connect', () => (clearTimeout(t), s.end(), res()));
    s.once('error', (e) => (clearTimeout(t), rej(e)));
  });
}

/**
 * The verification against the restored instance: TLS verified against the RDS CA for the endpoint name
 * (also behind a tunnel), pg_cron paused first, marker rows, then the structure compared with the source.
 * Row counts and checksums are read from the restored instance only (summary), never from production.
 */
export async function verifyWithPg(t: VerifyTarget, ctx: { runId: string; markers: Marker[]; target: Date | null; deadlineMs: number; expected?: DatabaseSnapshot }): Promise<AwsVerification> {
  const tlsVerified = 'ca' in t.tls;
  const client = new pg.Client({
    host: t.host,
    port: t.port,
    user: t.user,
    password: t.password,
    database: t.database,
    ssl: 'ca' in t.tls ? { ca: t.tls.ca, rejectUnauthorized: true, servername: t.serverName, checkServerIdentity: (_h, cert) => checkServerIdentity(t.serverName, cert) } : { rejectUnauthorized: false },
    connectionTimeoutMillis: 15_000,
    statement_timeout: ctx.deadlineMs,
  });
  const q0 = performance.now();
  await client.connect();
  try {
    await client.query('SELECT 1');
    const firstQueryMs = performance.now() - q0;
    const failures: string[] = [];
    // pg_cron first: its jobs would change data while we read. The job list is read before pausing.
    let cronPaused: number | null = null;
    const hasCron = (await client.query("SELECT 1 FROM pg_namespace n JOIN pg_class c ON c.relnamespace = n.oid WHERE n.nspname = 'cron' AND c.relname = 'job'")).rowCount;
    let cronBefore: string[] | null = null;
    if (hasCron) {
      cronBefore = (await snapshot(client, { schemas: [] })).cronJobs;
      const jobs = (await client.query<{ jobid: string; active: boolean }>('SELECT jobid::text, active FROM cron.job')).rows;
      cronPaused = 0;
      for (const j of jobs.filter((x) => x.active)) {
        try {
          await client.query('SELECT cron.alter_job($1::bigint, active := false)', [j.jobid]);
          cronPaused++;
        } catch (e) {
          failures.push(`could not pause pg_cron job ${j.jobid}: ${(e as Error).message}`);
        }
      }
    }
    let markers: MarkerCheck | null = null;
    if (ctx.markers.length && ctx.target) {
      const exists = (await client.query(`SELECT to_regclass('${DRILL_SCHEMA}.markers') AS r`)).rows[0].r;
      const present = exists ? new Set((await client.query<{ seq: number }>(`SELECT seq FROM ${DRILL_SCHEMA}.markers WHERE run_id = $1`, [ctx.runId])).rows.map((x) => x.seq)) : new Set<number>();
      markers = checkMarkersAtTarget(ctx.markers, present, ctx.target.getTime());
      if (markers.missing.length) failures.push(`marker row(s) committed before the target are missing (seq ${markers.missing.join(', ')}): the restore is older than asked`);
      if (markers.unexpected.length) failures.push(`marker row(s) committed after the target are present (seq ${markers.unexpected.join(', ')}): the restore is newer than asked`);
      if (markers.mustBePresent === 0 || markers.mustBeAbsent === 0) failures.push('the target did not split the marker rows: the restore time is unproven');
    }
    const actual = await snapshot(client);
    if (cronBefore) actual.cronJobs = cronBefore;
    if (ctx.expected) failures.push(...compareSnapshots(structureOnly(ctx.expected), structureOnly(actual)));
    if (actual.tables.length === 0) failures.push('the restored database has no tables in the core schemas (app, audit, ops): wrong database or an empty restore');
    return { ok: failures.length === 0, failures, summary: summarize(actual), tlsVerified, markers, cronPaused, firstQueryMs };
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Marker rows on the source through one connection (`--marker-url`): the drill's only write to production,
 * in its own schema (pgkit_drill, outside the verified core schemas). Times are client-side: sent just before
 * the INSERT, acknowledged just after its commit returned (+1 ms), as in the local PITR drill.
 */
export function pgMarkerSource(connect: () => Promise<pg.Client>): MarkerSource & { close(): Promise<void> } {
  let client: pg.Client | null = null;
  return {
    async write(runId, seq) {
      if (!client) {
        client = await connect();
        client.on('error', () => {}); // a dropped idle connection must not crash the drill; the next query fails instead
        await ensureDrillTables(client);
      }
      const sentAt = Date.now();
      await client.query(`INSERT INTO ${DRILL_SCHEMA}.markers (run_id, seq) VALUES ($1, $2)`, [runId, seq]);
      return { seq, sentAt, ackedAt: Date.now() + 1 };
    },
    async close() {
      await client?.end().catch(() => {});
      client = null;
    },
  };
}

/**
 * A snapshot without row counts and checksums (table names stay), and without the drill's own schema (its
 * marker table may be created on the source after the expected structure was read).
 */
export function structureOnly(s: DatabaseSnapshot): DatabaseSnapshot {
  const own = (name: string) => name.startsWith(`${DRILL_SCHEMA}.`);
  return {
    ...s,
    tables: s.tables.map((t) => ({ ...t, rows: 0, checksum: '' })),
    rls: Object.fromEntries(Object.entries(s.rls).filter(([k]) => !own(k))),
    policies: s.policies.filter((p) => !own(p)),
  };
}

export function renderAwsMarkdown(r: AwsDrillResult): string {
  const s = (ms: number | null) => (ms === null ? '-' : `${(ms / 60000).toFixed(1)} min`);
  const L = [
    `# pgkit AWS drill — ${r.dryRun ? 'DRY RUN' : r.ok ? 'PASSED' : 'FAILED'}`,
    '',
    `Source ${r.sourceInstanceId}, temporary instance ${r.tempInstanceId} (run ${r.runId}), ${r.restoreKind === 'pitr' ? 'RDS point-in-time restore' : 'AWS Backup restore'}${r.restoredTo ? ` to ${r.restoredTo}` : ''}. ${r.startedAt} → ${r.finishedAt}.`,
    '',
    '## Plan',
    '',
    ...r.plan.map((p, i) => `${i + 1}. ${p}`),
  ];
  if (!r.dryRun) {
    if (r.preflight.length) L.push('', '## Preflight', '', ...r.preflight.map((c) => `- ${c.ok ? 'ok' : 'FAILED'} ${c.check}: ${c.detail}`));
    if (r.orphans.length) L.push('', '## Earlier drill instances', '', ...r.orphans.map((x) => `- ${x.id} ${x.removed ? 'removed' : 'still there'} (${x.tags})`));
    L.push(
      '',
      '## Result',
      '',
      `- RTO ${s(r.rto.totalMs)}: restore request → available ${s(r.rto.requestToAvailableMs)} (${r.rto.availableFrom === 'rds-event' ? 'from the RDS restore event' : 'as observed by polling'}), own password applied ${s(r.rto.credentialsMs)}, first query ${r.rto.firstQueryMs === null ? '-' : `${(r.rto.firstQueryMs / 1000).toFixed(1)} s`}, verification ${s(r.rto.verifyMs)}.`,
    );
    const v = r.verification;
    if (v?.markers) L.push(`- Restore time proven by marker rows: ${v.markers.mustBePresent} written before the target present, ${v.markers.mustBeAbsent} written after it absent${v.markers.ok ? '' : ' — FAILED'}.`);
    if (v?.summary) {
      const x = v.summary;
      L.push(`- Verified: ${x.tables} core tables / ${x.rows} rows, ${x.roles} roles, ${x.rlsTables} tables with RLS, ${x.policies} policies, ${x.extensions} extensions, ${x.cronJobs ?? 'no'} pg_cron jobs (${v.cronPaused ?? 0} paused before reading); TLS ${v.tlsVerified ? 'verified against the RDS CA' : 'NOT verified'}.`);
    }
    L.push(`- Temporary instance: ${!r.created ? 'not created by this run (nothing to delete)' : r.cleanup.deleted ? 'deleted (seen gone)' : `NOT deleted${r.cleanup.error ? ` — ${r.cleanup.error}` : ''}`}.`);
    if (r.warnings.length) L.push('', '## Warnings', '', ...r.warnings.map((w) => `- ${w}`));
  }
  if (r.failures.length) L.push('', '## Failures', '', ...r.failures.map((f) => `- ${f}`));
  return L.join('\n') + '\n';
}
