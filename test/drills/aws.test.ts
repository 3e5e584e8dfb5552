// The AWS drill with fake RDS and Backup clients (the only mocks in the drill tests): the happy path, a failed
// restore, a failed verification, and the clean-up that must happen in every case.
import { describe, expect, it } from 'vitest';
import { runAwsDrill, renderAwsMarkdown, type AwsSender, type AwsVerification } from '../../src/drills/aws.js';

type Handler = (input: Record<string, unknown>, call: number) => unknown;

class FakeAws implements AwsSender {
  readonly calls: Array<{ command: string; input: Record<string, unknown> }> = [];
  private counts = new Map<string, number>();
  constructor(private readonly handlers: Record<string, Handler>) {}
  async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
    const name = command.constructor.name;
    this.calls.push({ command: name, input: command.input });
    const n = (this.counts.get(name) ?? 0) + 1;
    this.counts.set(name, n);
    const h = this.handlers[name];
    if (!h) throw new Error(`unexpected AWS call ${name}`);
    return h(command.input, n);
  }
  names() {
    return this.calls.map((c) => c.command);
  }
}

const awsError = (name: string, message = name) => Object.assign(new Error(message), { name });

const SOURCE = {
  DBInstanceIdentifier: 'pgkit-prod',
  DBInstanceArn: 'arn:aws:rds:eu-west-1:111122223333:db:pgkit-prod',
  DBInstanceClass: 'db.r6g.large',
  DBInstanceStatus: 'available',
  MasterUsername: 'pgkit_admin',
  DBSubnetGroup: { DBSubnetGroupName: 'pgkit-prod-db' },
  VpcSecurityGroups: [{ VpcSecurityGroupId: 'sg-123' }],
  DBParameterGroups: [{ DBParameterGroupName: 'pgkit-prod-pg15' }],
  LatestRestorableTime: new Date('2025-03-01T11:59:00Z'),
};

/** RDS where the temporary instance goes creating → available (or to `finalState`). */
function fakeRds(opts: { finalState?: string; restoreFails?: boolean; deleteBusyTimes?: number } = {}) {
  let restored = false;
  return new FakeAws({
    DescribeDBInstancesCommand: (input, call) => {
      if (input.DBInstanceIdentifier === 'pgkit-prod') return { DBInstances: [SOURCE] };
      if (!restored) throw awsError('DBInstanceNotFoundFault');
      const status = call < 3 ? 'creating' : (opts.finalState ?? 'available');
      return { DBInstances: [{ DBInstanceIdentifier: input.DBInstanceIdentifier, DBInstanceStatus: status, Endpoint: status === 'available' ? { Address: 'tmp.example.internal', Port: 5432 } : undefined }] };
    },
    RestoreDBInstanceToPointInTimeCommand: () => {
      if (opts.restoreFails) throw awsError('InvalidRestoreFault', 'Restore time is after the latest restorable time');
      restored = true;
      return { DBInstance: { DBInstanceStatus: 'creating' } };
    },
    DeleteDBInstanceCommand: (_input, call) => {
      if (!restored) throw awsError('DBInstanceNotFoundFault');
      if (call <= (opts.deleteBusyTimes ?? 0)) throw awsError('InvalidDBInstanceStateFault', 'Instance is not in a deletable state');
      return { DBInstance: { DBInstanceStatus: 'deleting' } };
    },
  });
}

const okVerify = async (): Promise<AwsVerification> => ({ ok: true, failures: [], summary: { tables: 30, rows: 1200, roles: 9, rlsTables: 20, policies: 60, extensions: 5, cronJobs: 4 }, tlsVerified: true });
const base = { sourceInstanceId: 'pgkit-prod', tempInstanceId: 'pgkit-prod-drill-test', pollMs: 1, timeoutMs: 5_000 };

describe('AWS drill (fake AWS clients)', () => {
  it('restores to a point in time into a temporary instance placed like the source, verifies, reports the RTO and deletes it', async () => {
    const rds = fakeRds();
    const seen: Array<{ host: string; port: number }> = [];
    const r = await runAwsDrill({ ...base, rds, source: { kind: 'pitr', restoreTime: new Date('2025-03-01T11:00:00Z') }, verify: async (e) => (seen.push(e), okVerify()) });
    expect(r.ok).toBe(true);
    expect(r.failures).toEqual([]);
    const restore = rds.calls.find((c) => c.command === 'RestoreDBInstanceToPointInTimeCommand')!.input;
    expect(restore).toMatchObject({
      SourceDBInstanceIdentifier: 'pgkit-prod',
      TargetDBInstanceIdentifier: 'pgkit-prod-drill-test',
      RestoreTime: new Date('2025-03-01T11:00:00Z'),
      DBSubnetGroupName: 'pgkit-prod-db',
      VpcSecurityGroupIds: ['sg-123'],
      DBParameterGroupName: 'pgkit-prod-pg15',
      DBInstanceClass: 'db.r6g.large',
      MultiAZ: false,
      PubliclyAccessible: false,
      DeletionProtection: false,
    });
    expect(restore).not.toHaveProperty('UseLatestRestorableTime');
    expect(seen).toEqual([{ host: 'tmp.example.internal', port: 5432 }]);
    expect(rds.names().at(-1)).toBe('DeleteDBInstanceCommand');
    expect(rds.calls.at(-1)!.input).toEqual({ DBInstanceIdentifier: 'pgkit-prod-drill-test', SkipFinalSnapshot: true, DeleteAutomatedBackups: true });
    expect(r.cleanup).toEqual({ attempted: true, deleted: true, error: null });
    expect(r.rto.totalMs).toBeGreaterThanOrEqual(r.rto.restoreMs!);
    expect(renderAwsMarkdown(r)).toMatch(/PASSED[\s\S]*Temporary instance deleted: yes/);
  });

  it('a restore request AWS rejects is reported with its message, and the clean-up still runs', async () => {
    const rds = fakeRds({ restoreFails: true });
    const r = await runAwsDrill({ ...base, rds, source: { kind: 'pitr' }, verify: okVerify });
    expect(r.ok).toBe(false);
    expect(r.failures).toEqual(['Restore time is after the latest restorable time']);
    expect(rds.names()).toContain('DeleteDBInstanceCommand');
    expect(r.cleanup.attempted).toBe(true);
    expect(r.verification).toBeNull();
  });

  it('an instance that ends in a failed state fails the drill, names the state, and is deleted (retrying while RDS refuses)', async () => {
    const rds = fakeRds({ finalState: 'incompatible-parameters', deleteBusyTimes: 2 });
    let verified = false;
    const r = await runAwsDrill({ ...base, rds, source: { kind: 'pitr' }, verify: async () => ((verified = true), okVerify()) });
    expect(r.ok).toBe(false);
    expect(r.failures[0]).toMatch(/pgkit-prod-drill-test ended in state 'incompatible-parameters'.*describe-events/);
    expect(verified).toBe(false);
    expect(rds.names().filter((n) => n === 'DeleteDBInstanceCommand')).toHaveLength(3);
    expect(r.cleanup).toEqual({ attempted: true, deleted: true, error: null });
  });

  it('a failed verification fails the drill but the temporary instance is still deleted', async () => {
    const rds = fakeRds();
    const r = await runAwsDrill({ ...base, rds, source: { kind: 'pitr' }, verify: async () => ({ ok: false, failures: ['policy missing or changed: app.projects.x'], summary: null, tlsVerified: true }) });
    expect(r.ok).toBe(false);
    expect(r.failures).toEqual(['policy missing or changed: app.projects.x']);
    expect(r.cleanup.deleted).toBe(true);
  });

  it('when the clean-up itself fails, the report says how to delete the instance by hand', async () => {
    const rds = fakeRds();
    const failingDelete = new FakeAws({
      DescribeDBInstancesCommand: (i, n) => (rds as unknown as { handlers: Record<string, Handler> }).handlers.DescribeDBInstancesCommand(i, n),
      RestoreDBInstanceToPointInTimeCommand: (i, n) => (rds as unknown as { handlers: Record<string, Handler> }).handlers.RestoreDBInstanceToPointInTimeCommand(i, n),
      DeleteDBInstanceCommand: () => {
        throw awsError('AccessDenied', 'not authorized to perform rds:DeleteDBInstance');
      },
    });
    const r = await runAwsDrill({ ...base, rds: failingDelete, source: { kind: 'pitr' }, verify: okVerify });
    expect(r.ok).toBe(false);
    expect(r.cleanup.deleted).toBe(false);
    expect(r.cleanup.error).toMatch(/aws rds delete-db-instance --db-instance-identifier pgkit-prod-drill-test --skip-final-snapshot/);
  });

  it('restores the newest completed AWS Backup recovery point with the restore role, then cleans up', async () => {
    const rds = fakeRds();
    let restored = false;
    const backup = new FakeAws({
      ListRecoveryPointsByResourceCommand: (input) => {
        expect(input.ResourceArn).toBe(SOURCE.DBInstanceArn);
        return {
          RecoveryPoints: [
            { RecoveryPointArn: 'rp-old', CreationDate: new Date('2025-02-01'), Status: 'COMPLETED', BackupVaultName: 'v' },
            { RecoveryPointArn: 'rp-running', CreationDate: new Date('2025-03-01'), Status: 'RUNNING', BackupVaultName: 'v' },
            { RecoveryPointArn: 'rp-new', CreationDate: new Date('2025-02-28'), Status: 'COMPLETED', BackupVaultName: 'v' },
          ],
        };
      },
      GetRecoveryPointRestoreMetadataCommand: () => ({ RestoreMetadata: { DBInstanceIdentifier: 'pgkit-prod', Engine: 'postgres' } }),
      StartRestoreJobCommand: () => {
        restored = true;
        return { RestoreJobId: 'job-1' };
      },
      DescribeRestoreJobCommand: (_i, n) => ({ Status: n < 2 ? 'RUNNING' : 'COMPLETED' }),
    });
    // The temporary instance appears once the Backup job created it.
    const rdsView = new FakeAws({
      DescribeDBInstancesCommand: (input, n) => {
        if (input.DBInstanceIdentifier === 'pgkit-prod') return { DBInstances: [SOURCE] };
        if (!restored) throw awsError('DBInstanceNotFoundFault');
        return { DBInstances: [{ DBInstanceStatus: 'available', Endpoint: { Address: 'bk.example.internal', Port: 5432 } }] };
      },
      DeleteDBInstanceCommand: () => ({}),
    });
    void rds;
    const r = await runAwsDrill({ ...base, rds: rdsView, backup, source: { kind: 'backup', iamRoleArn: 'arn:aws:iam::1:role/restore' }, verify: okVerify });
    expect(r.ok).toBe(true);
    expect(r.recoveryPointArn).toBe('rp-new');
    const start = backup.calls.find((c) => c.command === 'StartRestoreJobCommand')!.input as { Metadata: Record<string, string>; IamRoleArn: string };
    expect(start.IamRoleArn).toBe('arn:aws:iam::1:role/restore');
    expect(start.Metadata).toMatchObject({ DBInstanceIdentifier: 'pgkit-prod-drill-test', MultiAZ: 'false', PubliclyAccessible: 'false', DBSubnetGroupName: 'pgkit-prod-db', VpcSecurityGroupIds: '["sg-123"]' });
    expect(rdsView.names().at(-1)).toBe('DeleteDBInstanceCommand');
  });

  it('a failed AWS Backup restore job is reported and the instance name is still cleaned up', async () => {
    const rds = new FakeAws({
      DescribeDBInstancesCommand: (input) => {
        if (input.DBInstanceIdentifier === 'pgkit-prod') return { DBInstances: [SOURCE] };
        throw awsError('DBInstanceNotFoundFault');
      },
      DeleteDBInstanceCommand: () => {
        throw awsError('DBInstanceNotFoundFault');
      },
    });
    const backup = new FakeAws({
      GetRecoveryPointRestoreMetadataCommand: () => ({ RestoreMetadata: {} }),
      StartRestoreJobCommand: () => ({ RestoreJobId: 'job-2' }),
      DescribeRestoreJobCommand: () => ({ Status: 'FAILED', StatusMessage: 'KMS key not accessible' }),
    });
    const r = await runAwsDrill({ ...base, rds, backup, source: { kind: 'backup', iamRoleArn: 'r', recoveryPointArn: 'rp-x', vaultName: 'v' }, verify: okVerify });
    expect(r.ok).toBe(false);
    expect(r.failures[0]).toBe('AWS Backup restore job job-2 FAILED: KMS key not accessible');
    expect(r.cleanup).toEqual({ attempted: true, deleted: true, error: null });
  });

  it('--dry-run prints the plan and calls nothing', async () => {
    const rds = new FakeAws({});
    const r = await runAwsDrill({ ...base, rds, source: { kind: 'pitr' }, dryRun: true });
    expect(rds.calls).toEqual([]);
    expect(r.plan.join('\n')).toMatch(/RestoreDBInstanceToPointInTime pgkit-prod → pgkit-prod-drill-test[\s\S]*DeleteDBInstance pgkit-prod-drill-test/);
    expect(renderAwsMarkdown(r)).toMatch(/DRY RUN/);
  });
});
