// Fake RDS and AWS Backup clients that behave like AWS, so the AWS drill's tests can fail on AWS's rules.
// Every input is checked against the SDK's own command shape (the Smithy schema each command carries:
// member names, required members, member types), then against the documented rule the fake names next to
// its check. Sources (the AWS API references; the same text ships as the doc comments of
// node_modules/@aws-sdk/client-rds/dist-types/models/models_{0,1}.d.ts and client-backup's):
//  [ID]    RDS API reference, RestoreDBInstanceToPointInTime, TargetDBInstanceIdentifier: "1 to 63 letters,
//          numbers, or hyphens. First character must be a letter. Can't end with a hyphen or contain two
//          consecutive hyphens."  Error DBInstanceAlreadyExists (HTTP 400): "The user already has a DB
//          instance with the given identifier."
//  [PITR]  same page: exactly one of SourceDBInstanceIdentifier, SourceDbiResourceId,
//          SourceDBInstanceAutomatedBackupsArn; RestoreTime "Can't be specified if UseLatestRestorableTime
//          is enabled", "Must be before the latest restorable time" (InvalidRestoreFault);
//          ManageMasterUserPassword "Constraints: Applies to RDS for Oracle only." A restored instance keeps
//          the master user and password of its restore point.
//  [PW]    ModifyDBInstance, MasterUserPassword: "Can't be specified if ManageMasterUserPassword is turned
//          on"; "Can include any printable ASCII character except '/', '"', or '@'"; "RDS for PostgreSQL -
//          Must contain from 8 to 128 characters"; "the change is asynchronously applied as soon as possible.
//          Between the time of the request and the completion of the request, the MasterUserPassword element
//          exists in the PendingModifiedValues element". ManageMasterUserPassword=false on an instance that
//          manages it: "then you must specify MasterUserPassword. In this case, Amazon RDS deletes the secret".
//  [PAGE]  DescribeDBInstances MaxRecords "Default: 100. Constraints: Minimum 20, maximum 100"; Marker
//          "the response includes only records beyond the marker". Filters do not include tags.
//          Backup ListRecoveryPointsByBackupVault: NextToken / MaxResults (1-1000), ByResourceArn.
//  [STATE] RDS User Guide, "Viewing Amazon RDS DB instance status": creating, backing-up, available,
//          resetting-master-credentials, rebooting, deleting; DeleteDBInstance fails with
//          InvalidDBInstanceState ("The DB instance isn't in a valid state") while the instance is created.
//  [THR]   RDS common errors: Throttling (HTTP 400, "The request was denied due to request throttling");
//          AWS Backup: ThrottlingException. Both are retryable.
//  [CRED]  STS: temporary credentials fail with ExpiredTokenException once past their Expiration.
//  [BKP]   Backup DescribeRestoreJob Status PENDING | RUNNING | COMPLETED | ABORTED | FAILED; CreatedResourceArn
//          names what the job created. The Backup API has no call that stops a restore job (there is
//          StopBackupJob, and no StopRestoreJob in @aws-sdk/client-backup).
import type { AwsSender } from '../../src/drills/aws.js';

export class AwsError extends Error {
  $fault: 'client' | 'server';
  $retryable?: { throttling: boolean };
  $metadata: { httpStatusCode: number };
  constructor(name: string, message: string, opts: { status?: number; throttling?: boolean } = {}) {
    super(message);
    this.name = name;
    const status = opts.status ?? 400;
    this.$fault = status >= 500 ? 'server' : 'client';
    this.$metadata = { httpStatusCode: status };
    if (opts.throttling !== undefined) this.$retryable = { throttling: opts.throttling };
  }
}

// ---- the SDK command shape ----

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Schema = any;
const resolve = (s: Schema): Schema => (typeof s === 'function' ? s() : s);
/** A full schema is [kind, namespace, name, traits, ...]; a member reference is [schema, traits]. */
const isFull = (s: Schema) => Array.isArray(s) && typeof s[1] === 'string';

function checkValue(sIn: Schema, v: unknown, path: string, errs: string[]) {
  let s = resolve(sIn);
  if (Array.isArray(s) && !isFull(s)) s = resolve(s[0]);
  if (v === undefined) return;
  if (typeof s === 'number') {
    if (s & 64) {
      if (!Array.isArray(v)) errs.push(`${path}: expected a list`);
      else v.forEach((x, i) => checkValue(s & 63, x, `${path}[${i}]`, errs));
      return;
    }
    if (s & 128) {
      if (typeof v !== 'object' || v === null) errs.push(`${path}: expected a map`);
      else for (const [k, x] of Object.entries(v)) checkValue(s & 127, x, `${path}.${k}`, errs);
      return;
    }
    const want = ({ 0: 'string', 1: 'number', 2: 'boolean', 4: 'timestamp' } as Record<number, string>)[s];
    const ok = want === 'string' ? typeof v === 'string' : want === 'number' ? typeof v === 'number' : want === 'boolean' ? typeof v === 'boolean' : want === 'timestamp' ? v instanceof Date : true;
    if (!ok) errs.push(`${path}: expected a ${want}, got ${JSON.stringify(v)}`);
    return;
  }
  switch (s[0]) {
    case 0:
      return checkValue(s[4], v, path, errs);
    case 1:
      if (!Array.isArray(v)) errs.push(`${path}: expected a list`);
      else v.forEach((x, i) => checkValue(s[4], x, `${path}[${i}]`, errs));
      return;
    case 2:
      if (typeof v !== 'object' || v === null) errs.push(`${path}: expected a map`);
      else for (const [k, x] of Object.entries(v)) checkValue(s[5], x, `${path}.${k}`, errs);
      return;
    case 3: {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return void errs.push(`${path}: expected a structure`);
      const names: string[] = s[4];
      const required: number = s[6] ?? 0;
      for (const k of Object.keys(v)) if (!names.includes(k)) errs.push(`${path ? `${path}.` : ''}${k}: not a member of ${s[2]}`);
      names.forEach((n, i) => {
        const x = (v as Record<string, unknown>)[n];
        if (i < required && x === undefined) errs.push(`${path ? `${path}.` : ''}${n}: required by ${s[2]}`);
        checkValue(s[5][i], x, path ? `${path}.${n}` : n, errs);
      });
      return;
    }
  }
}

/** The input of an SDK v3 command checked against the command's own schema; throws like AWS's ValidationError. */
export function validateCommandShape(command: { schema?: Schema; input: unknown }): string {
  const op = command.schema;
  if (!Array.isArray(op) || op[0] !== 9) throw new Error('not an SDK v3 command (no operation schema)');
  const errs: string[] = [];
  checkValue(op[4], command.input, '', errs);
  if (errs.length) throw new AwsError('ValidationError', `${op[2]}: ${errs.join('; ')}`);
  return op[2] as string;
}

// ---- the fakes ----

export interface Call {
  command: string;
  input: Record<string, unknown>;
}

interface FakeOptions {
  /** The first N calls of a command are throttled [THR]. */
  throttle?: Record<string, number>;
  /** After this many calls in total, every call fails with ExpiredTokenException [CRED]. */
  credentialsExpireAfterCalls?: number;
  /** Called before each command (tests use it to interrupt the drill at a chosen moment). */
  onCall?: (c: Call) => void;
}

abstract class FakeAws implements AwsSender {
  readonly calls: Call[] = [];
  private counts = new Map<string, number>();
  constructor(
    protected readonly opts: FakeOptions,
    private readonly throttleName: string,
  ) {}
  protected abstract handle(name: string, input: Record<string, unknown>): unknown;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async send(command: any): Promise<any> {
    const name = validateCommandShape(command);
    const input = command.input as Record<string, unknown>;
    const call = { command: name, input };
    this.calls.push(call);
    this.opts.onCall?.(call);
    if (this.opts.credentialsExpireAfterCalls !== undefined && this.calls.length > this.opts.credentialsExpireAfterCalls) {
      throw new AwsError('ExpiredTokenException', 'The security token included in the request is expired', { status: 403 });
    }
    const n = (this.counts.get(name) ?? 0) + 1;
    this.counts.set(name, n);
    if (n <= (this.opts.throttle?.[name] ?? 0)) throw new AwsError(this.throttleName, 'Rate exceeded', { throttling: true });
    return structuredClone(this.handle(name, input));
  }
  names(): string[] {
    return this.calls.map((c) => c.command);
  }
  count(name: string): number {
    return this.calls.filter((c) => c.command === name).length;
  }
}

export interface FakeInstance {
  DBInstanceIdentifier: string;
  DBInstanceArn: string;
  DbiResourceId: string;
  DBInstanceClass: string;
  Engine: string;
  DBInstanceStatus: string;
  MasterUsername: string;
  Endpoint?: { Address: string; Port: number };
  DBSubnetGroup?: { DBSubnetGroupName: string };
  VpcSecurityGroups?: Array<{ VpcSecurityGroupId: string; Status: string }>;
  DBParameterGroups?: Array<{ DBParameterGroupName: string; ParameterApplyStatus: string }>;
  LatestRestorableTime?: Date;
  IAMDatabaseAuthenticationEnabled?: boolean;
  MaxAllocatedStorage?: number;
  AllocatedStorage?: number;
  StorageType?: string;
  Iops?: number;
  StorageThroughput?: number;
  EngineLifecycleSupport?: string;
  KmsKeyId?: string;
  MasterUserSecret?: { SecretArn: string; SecretStatus: string };
  PendingModifiedValues?: { MasterUserPassword?: string };
  DeletionProtection?: boolean;
  TagList: Array<{ Key: string; Value: string }>;
}

const REGION = 'eu-west-1';
const ACCOUNT = '111122223333';
export const instanceArn = (id: string) => `arn:aws:rds:${REGION}:${ACCOUNT}:db:${id}`;
const ENDPOINT_SUFFIX = `abcdefghij12.${REGION}.rds.amazonaws.com`;

export function sourceInstance(over: Partial<FakeInstance> = {}): FakeInstance {
  return {
    DBInstanceIdentifier: 'pgkit-prod',
    DBInstanceArn: instanceArn('pgkit-prod'),
    DbiResourceId: 'db-SOURCE0000000000000000000',
    DBInstanceClass: 'db.r6g.large',
    Engine: 'postgres',
    DBInstanceStatus: 'available',
    MasterUsername: 'pgkit_admin',
    Endpoint: { Address: `pgkit-prod.${ENDPOINT_SUFFIX}`, Port: 5432 },
    DBSubnetGroup: { DBSubnetGroupName: 'pgkit-prod-db' },
    VpcSecurityGroups: [{ VpcSecurityGroupId: 'sg-123', Status: 'active' }],
    DBParameterGroups: [{ DBParameterGroupName: 'pgkit-prod-pg15', ParameterApplyStatus: 'in-sync' }],
    LatestRestorableTime: new Date('2025-03-01T11:59:00Z'),
    IAMDatabaseAuthenticationEnabled: true,
    MaxAllocatedStorage: 1000,
    AllocatedStorage: 500,
    StorageType: 'gp3',
    Iops: 12000,
    StorageThroughput: 500,
    EngineLifecycleSupport: 'open-source-rds-extended-support-disabled',
    KmsKeyId: `arn:aws:kms:${REGION}:${ACCOUNT}:key/1111`,
    MasterUserSecret: { SecretArn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:rds!db-1`, SecretStatus: 'active' },
    DeletionProtection: true,
    TagList: [],
    ...over,
  };
}

/** The rules of [ID]. */
export function identifierProblem(id: string): string | null {
  if (!/^[A-Za-z][A-Za-z0-9-]{0,62}$/.test(id)) return 'must contain from 1 to 63 letters, numbers, or hyphens, the first a letter';
  if (id.endsWith('-') || id.includes('--')) return "can't end with a hyphen or contain two consecutive hyphens";
  return null;
}

interface Lifecycle {
  /** states still to go through, one per DescribeDBInstances of this instance */
  next: string[];
  /** what happens when `next` runs out */
  then?: () => void;
}

export interface FakeRdsOptions extends FakeOptions {
  instances?: FakeInstance[];
  /** Retained automated backups of deleted sources, by DbiResourceId. */
  automatedBackups?: Array<{ DbiResourceId: string; DBInstanceIdentifier: string; Status: string; Engine: string; RestoreWindow: { EarliestTime: Date; LatestTime: Date }; IAMDatabaseAuthenticationEnabled?: boolean; AllocatedStorage?: number; StorageType?: string; Iops?: number; StorageThroughput?: number; KmsKeyId?: string; DBInstanceAutomatedBackupsArn: string; MasterUsername: string }>;
  /** States a restored instance passes through before 'available' (or before `restoreEndsIn`). */
  creatingSteps?: number;
  restoreEndsIn?: string;
  /** How many describes a master password reset, a reboot and a deletion take. */
  modifySteps?: number;
  deleteSteps?: number;
  /** Page size of DescribeDBInstances without an identifier (AWS returns up to MaxRecords). */
  pageSize?: number;
  /** Parameter apply status of a restored instance. */
  restoredParameterApplyStatus?: string;
  /** The restore call itself fails with this error (after validation). */
  restoreError?: AwsError;
}

/** Stateful fake RDS: instances, their states and transitions, passwords, tags, events. */
export class FakeRds extends FakeAws {
  readonly instances = new Map<string, FakeInstance>();
  /** Master password per instance (what a login must present). */
  readonly passwords = new Map<string, string>();
  private readonly life = new Map<string, Lifecycle>();
  readonly events: Array<{ SourceIdentifier: string; Date: Date; Message: string; EventCategories: string[] }> = [];
  readonly deleted: string[] = [];

  constructor(readonly o: FakeRdsOptions = {}) {
    super(o, 'Throttling');
    for (const i of o.instances ?? [sourceInstance()]) {
      this.instances.set(i.DBInstanceIdentifier, structuredClone(i));
      this.passwords.set(i.DBInstanceIdentifier, 'source-password-of-today');
    }
  }

  private notFound(id: string): never {
    throw new AwsError('DBInstanceNotFound', `DBInstance ${id} not found.`, { status: 404 });
  }

  private step(id: string) {
    const l = this.life.get(id);
    const inst = this.instances.get(id);
    if (!l || !inst) return;
    const s = l.next.shift();
    if (s !== undefined) inst.DBInstanceStatus = s;
    if (l.next.length === 0) {
      this.life.delete(id);
      l.then?.();
    }
  }

  protected handle(name: string, i: Record<string, unknown>): unknown {
    switch (name) {
      case 'DescribeDBInstances': {
        if (i.MaxRecords !== undefined && ((i.MaxRecords as number) < 20 || (i.MaxRecords as number) > 100)) {
          throw new AwsError('InvalidParameterValue', 'MaxRecords must be between 20 and 100'); // [PAGE]
        }
        if (i.DBInstanceIdentifier) {
          const id = i.DBInstanceIdentifier as string;
          this.step(id);
          const inst = this.instances.get(id);
          if (!inst) this.notFound(id);
          return { DBInstances: [inst] };
        }
        const all = [...this.instances.values()].sort((a, b) => a.DBInstanceIdentifier.localeCompare(b.DBInstanceIdentifier));
        const start = i.Marker ? Number(String(i.Marker).slice(1)) : 0;
        const size = Math.min(this.o.pageSize ?? 100, (i.MaxRecords as number | undefined) ?? 100);
        const page = all.slice(start, start + size);
        return { DBInstances: page, ...(start + size < all.length ? { Marker: `m${start + size}` } : {}) };
      }
      case 'DescribeDBInstanceAutomatedBackups': {
        const b = (this.o.automatedBackups ?? []).filter((x) => !i.DbiResourceId || x.DbiResourceId === i.DbiResourceId);
        return { DBInstanceAutomatedBackups: b };
      }
      case 'RestoreDBInstanceToPointInTime':
        return this.restore(i);
      case 'ModifyDBInstance':
        return this.modify(i);
      case 'RebootDBInstance': {
        const inst = this.instances.get(i.DBInstanceIdentifier as string) ?? this.notFound(i.DBInstanceIdentifier as string);
        if (inst.DBInstanceStatus !== 'available') throw new AwsError('InvalidDBInstanceState', 'DB instance is not in an available state');
        inst.DBInstanceStatus = 'rebooting';
        this.life.set(inst.DBInstanceIdentifier, {
          next: [...Array(this.o.modifySteps ?? 2).fill('rebooting'), 'available'],
          then: () => inst.DBParameterGroups?.forEach((g) => (g.ParameterApplyStatus = 'in-sync')),
        });
        return { DBInstance: inst };
      }
      case 'AddTagsToResource': {
        const inst = [...this.instances.values()].find((x) => x.DBInstanceArn === i.ResourceName);
        if (!inst) throw new AwsError('DBInstanceNotFound', `${String(i.ResourceName)} not found`, { status: 404 });
        for (const t of i.Tags as Array<{ Key: string; Value: string }>) {
          inst.TagList = [...inst.TagList.filter((x) => x.Key !== t.Key), t];
        }
        return {};
      }
      case 'DeleteDBInstance': {
        const id = i.DBInstanceIdentifier as string;
        const inst = this.instances.get(id) ?? this.notFound(id);
        if (inst.DeletionProtection) throw new AwsError('InvalidParameterCombination', 'Cannot delete protected DB Instance, please disable deletion protection and try again.');
        if (['creating', 'deleting'].includes(inst.DBInstanceStatus)) throw new AwsError('InvalidDBInstanceState', `DB instance ${id} is not in a valid state: ${inst.DBInstanceStatus}`); // [STATE]
        if (!i.SkipFinalSnapshot && !i.FinalDBSnapshotIdentifier) throw new AwsError('InvalidParameterCombination', 'FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified');
        inst.DBInstanceStatus = 'deleting';
        this.life.set(id, {
          next: Array(this.o.deleteSteps ?? 2).fill('deleting'),
          then: () => {
            this.instances.delete(id);
            this.deleted.push(id);
          },
        });
        return { DBInstance: inst };
      }
      case 'DescribeEvents':
        return { Events: this.events.filter((e) => e.SourceIdentifier === i.SourceIdentifier).map((e) => ({ ...e, SourceType: 'db-instance' })) };
      default:
        throw new Error(`the fake RDS does not implement ${name}`);
    }
  }

  private restore(i: Record<string, unknown>) {
    const target = i.TargetDBInstanceIdentifier as string;
    const bad = identifierProblem(target);
    if (bad) throw new AwsError('InvalidParameterValue', `The parameter TargetDBInstanceIdentifier is not a valid identifier: it ${bad}`); // [ID]
    const sources = ['SourceDBInstanceIdentifier', 'SourceDbiResourceId', 'SourceDBInstanceAutomatedBackupsArn'].filter((k) => i[k] !== undefined);
    if (sources.length !== 1) throw new AwsError('InvalidParameterCombination', `exactly one of SourceDBInstanceIdentifier, SourceDbiResourceId, SourceDBInstanceAutomatedBackupsArn is needed (got ${sources.join(', ') || 'none'})`); // [PITR]
    if (i.RestoreTime && i.UseLatestRestorableTime) throw new AwsError('InvalidParameterCombination', "RestoreTime can't be specified if UseLatestRestorableTime is enabled"); // [PITR]
    if (i.ManageMasterUserPassword !== undefined) throw new AwsError('InvalidParameterCombination', 'ManageMasterUserPassword applies to RDS for Oracle only'); // [PITR]
    if (this.instances.has(target)) throw new AwsError('DBInstanceAlreadyExists', `DB instance already exists`); // [ID]
    let src: { engine: string; latest: Date; earliest?: Date; user: string };
    if (i.SourceDBInstanceIdentifier) {
      const s = this.instances.get(i.SourceDBInstanceIdentifier as string) ?? this.notFound(i.SourceDBInstanceIdentifier as string);
      src = { engine: s.Engine, latest: s.LatestRestorableTime!, user: s.MasterUsername };
    } else {
      const b = (this.o.automatedBackups ?? []).find((x) => x.DbiResourceId === i.SourceDbiResourceId);
      if (!b) throw new AwsError('DBInstanceAutomatedBackupNotFound', `No automated backup found for ${String(i.SourceDbiResourceId)}`, { status: 404 });
      src = { engine: b.Engine, latest: b.RestoreWindow.LatestTime, earliest: b.RestoreWindow.EarliestTime, user: b.MasterUsername };
    }
    const t = i.RestoreTime as Date | undefined;
    if (t && (t > src.latest || (src.earliest && t < src.earliest))) throw new AwsError('InvalidRestoreFault', 'Restore time is outside the restore window'); // [PITR]
    // [GP3] RDS User Guide, "Amazon RDS DB instance storage" (gp3): below 400 GiB, RDS for PostgreSQL has a fixed
    // baseline of 3,000 IOPS and 125 MiBps; provisioned IOPS and throughput can only be set from 400 GiB.
    const storage = (i.AllocatedStorage as number | undefined) ?? (i.SourceDBInstanceIdentifier ? this.instances.get(i.SourceDBInstanceIdentifier as string)?.AllocatedStorage : (this.o.automatedBackups ?? []).find((x) => x.DbiResourceId === i.SourceDbiResourceId)?.AllocatedStorage) ?? 0;
    if ((i.StorageType ?? 'gp3') === 'gp3' && (i.Iops !== undefined || i.StorageThroughput !== undefined) && storage < 400) throw new AwsError('InvalidParameterCombination', 'You cannot specify IOPS or storage throughput for engine postgres and a storage size less than 400.');
    if (this.o.restoreError) throw this.o.restoreError;
    const inst: FakeInstance = {
      DBInstanceIdentifier: target,
      DBInstanceArn: instanceArn(target),
      DbiResourceId: `db-${target.toUpperCase()}`,
      DBInstanceClass: (i.DBInstanceClass as string) ?? 'db.r6g.large',
      Engine: src.engine,
      DBInstanceStatus: 'creating',
      MasterUsername: src.user,
      DBSubnetGroup: i.DBSubnetGroupName ? { DBSubnetGroupName: i.DBSubnetGroupName as string } : { DBSubnetGroupName: 'default' },
      VpcSecurityGroups: ((i.VpcSecurityGroupIds as string[] | undefined) ?? ['sg-default']).map((g) => ({ VpcSecurityGroupId: g, Status: 'active' })),
      DBParameterGroups: [{ DBParameterGroupName: (i.DBParameterGroupName as string) ?? 'default.postgres15', ParameterApplyStatus: 'applying' }],
      IAMDatabaseAuthenticationEnabled: Boolean(i.EnableIAMDatabaseAuthentication),
      MaxAllocatedStorage: i.MaxAllocatedStorage as number | undefined,
      StorageType: i.StorageType as string | undefined,
      Iops: i.Iops as number | undefined,
      StorageThroughput: i.StorageThroughput as number | undefined,
      EngineLifecycleSupport: (i.EngineLifecycleSupport as string | undefined) ?? 'open-source-rds-extended-support',
      DeletionProtection: Boolean(i.DeletionProtection),
      TagList: (i.Tags as FakeInstance['TagList'] | undefined) ?? [],
      // No MasterUserSecret: a restored instance keeps the restore point's password and gets no managed secret [PITR].
    };
    this.instances.set(target, inst);
    // The password is the one of the restore point: not the source's current (rotated) secret value [PITR].
    this.passwords.set(target, 'password-at-the-restore-point');
    const steps = this.o.creatingSteps ?? 2;
    this.life.set(target, {
      next: [...Array(steps).fill('creating'), 'backing-up', this.o.restoreEndsIn ?? 'available'],
      then: () => {
        if (inst.DBInstanceStatus !== 'available') return;
        inst.Endpoint = { Address: `${target}.${ENDPOINT_SUFFIX}`, Port: 5432 };
        inst.DBParameterGroups = inst.DBParameterGroups?.map((g) => ({ ...g, ParameterApplyStatus: this.o.restoredParameterApplyStatus ?? 'in-sync' }));
        this.events.push({ SourceIdentifier: target, Date: new Date(), Message: 'Restored from DB instance to a point in time', EventCategories: ['restoration'] });
      },
    });
    return { DBInstance: inst };
  }

  private modify(i: Record<string, unknown>) {
    const id = i.DBInstanceIdentifier as string;
    const inst = this.instances.get(id) ?? this.notFound(id);
    if (inst.DBInstanceStatus !== 'available') throw new AwsError('InvalidDBInstanceState', `DB instance ${id} is not available: ${inst.DBInstanceStatus}`); // [STATE]
    const pw = i.MasterUserPassword as string | undefined;
    if (pw !== undefined) {
      if (inst.MasterUserSecret && i.ManageMasterUserPassword !== false) throw new AwsError('InvalidParameterCombination', "MasterUserPassword can't be specified if ManageMasterUserPassword is turned on"); // [PW]
      if (inst.Engine === 'postgres' && (pw.length < 8 || pw.length > 128)) throw new AwsError('InvalidParameterValue', 'The parameter MasterUserPassword is not a valid password: RDS for PostgreSQL needs 8 to 128 characters'); // [PW]
      if (/[/"@\s]/.test(pw) || /[^\x20-\x7e]/.test(pw)) throw new AwsError('InvalidParameterValue', 'The parameter MasterUserPassword is not a valid password because it contains invalid characters'); // [PW]
    }
    if (i.ManageMasterUserPassword === false && inst.MasterUserSecret && pw === undefined) throw new AwsError('InvalidParameterCombination', 'MasterUserPassword is needed when turning ManageMasterUserPassword off'); // [PW]
    if (pw !== undefined) {
      inst.PendingModifiedValues = { MasterUserPassword: '****' };
      const apply = () => {
        this.passwords.set(id, pw);
        delete inst.PendingModifiedValues;
        if (i.ManageMasterUserPassword === false) delete inst.MasterUserSecret;
      };
      if (i.ApplyImmediately) {
        inst.DBInstanceStatus = 'resetting-master-credentials';
        this.life.set(id, { next: [...Array(this.o.modifySteps ?? 2).fill('resetting-master-credentials'), 'available'], then: apply });
      } // without ApplyImmediately it stays pending (the fake never reaches the maintenance window)
    }
    return { DBInstance: inst };
  }

  /** Status of an instance as AWS has it now (no transition), or null. */
  status(id: string): string | null {
    return this.instances.get(id)?.DBInstanceStatus ?? null;
  }
}

export interface FakeBackupOptions extends FakeOptions {
  recoveryPoints?: Array<{ RecoveryPointArn: string; ResourceArn: string; BackupVaultName: string; Status: string; CreationDate: Date }>;
  pageSize?: number;
  /** Job statuses, one per DescribeRestoreJob; the last one stays. */
  jobStatuses?: string[];
  statusMessage?: string;
  /** When the job reaches COMPLETED it creates this instance in the fake RDS. */
  rds?: FakeRds;
}

export class FakeBackup extends FakeAws {
  private jobs = new Map<string, { statuses: string[]; metadata: Record<string, string>; created?: string }>();
  constructor(readonly o: FakeBackupOptions = {}) {
    super(o, 'ThrottlingException');
  }

  protected handle(name: string, i: Record<string, unknown>): unknown {
    switch (name) {
      case 'ListRecoveryPointsByBackupVault': {
        const all = (this.o.recoveryPoints ?? []).filter((p) => p.BackupVaultName === i.BackupVaultName && (!i.ByResourceArn || p.ResourceArn === i.ByResourceArn));
        const start = i.NextToken ? Number(String(i.NextToken).slice(1)) : 0;
        const size = Math.min(this.o.pageSize ?? 1000, (i.MaxResults as number | undefined) ?? 1000);
        return { RecoveryPoints: all.slice(start, start + size), ...(start + size < all.length ? { NextToken: `t${start + size}` } : {}) };
      }
      case 'ListRecoveryPointsByResource':
        throw new Error('the drill must list the stack vault (ListRecoveryPointsByBackupVault), not every vault');
      case 'GetRecoveryPointRestoreMetadata':
        return { RestoreMetadata: { DBInstanceIdentifier: 'pgkit-prod', Engine: 'postgres', MultiAZ: 'true' }, RecoveryPointArn: i.RecoveryPointArn, BackupVaultArn: `arn:aws:backup:${REGION}:${ACCOUNT}:backup-vault:${String(i.BackupVaultName)}` };
      case 'StartRestoreJob': {
        const md = i.Metadata as Record<string, string>;
        const bad = identifierProblem(md.DBInstanceIdentifier ?? '');
        if (bad) throw new AwsError('InvalidParameterValueException', `DBInstanceIdentifier ${bad}`);
        if (this.o.rds?.instances.has(md.DBInstanceIdentifier)) throw new AwsError('InvalidRequestException', 'DBInstanceAlreadyExists');
        const id = `job-${this.jobs.size + 1}`;
        this.jobs.set(id, { statuses: [...(this.o.jobStatuses ?? ['PENDING', 'RUNNING', 'COMPLETED'])], metadata: md });
        return { RestoreJobId: id };
      }
      case 'DescribeRestoreJob': {
        const j = this.jobs.get(i.RestoreJobId as string);
        if (!j) throw new AwsError('ResourceNotFoundException', 'no such restore job', { status: 404 });
        const s = j.statuses.length > 1 ? j.statuses.shift()! : j.statuses[0];
        const tid = j.metadata.DBInstanceIdentifier;
        if (s === 'COMPLETED' && !j.created && this.o.rds) {
          j.created = tid;
          const rds = this.o.rds;
          rds.instances.set(tid, { ...sourceInstance(), DBInstanceIdentifier: tid, DBInstanceArn: instanceArn(tid), DbiResourceId: `db-${tid}`, DBInstanceStatus: 'available', Endpoint: { Address: `${tid}.${ENDPOINT_SUFFIX}`, Port: 5432 }, MasterUserSecret: undefined, DeletionProtection: false, TagList: [] });
          rds.passwords.set(tid, 'password-at-the-recovery-point');
        }
        return { RestoreJobId: i.RestoreJobId, Status: s, StatusMessage: s === 'FAILED' || s === 'ABORTED' ? this.o.statusMessage ?? 'failed' : undefined, ...(s === 'COMPLETED' ? { CreatedResourceArn: instanceArn(tid) } : {}) };
      }
      default:
        throw new Error(`the fake Backup does not implement ${name}`);
    }
  }
}
