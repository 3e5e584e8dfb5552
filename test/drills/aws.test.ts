// The AWS drill against fakes that behave like AWS (test/drills/awsFakes.ts: the SDK's command shapes and
// AWS's documented rules, each cited there). Each defect of issue 20 has a case here that fails on the drill
// as it was (it restored under a taken name and then deleted that instance, logged in with the source's
// secret, listed only the first page of recovery points of any vault, said "deleted" while a restore job
// still ran, etc.).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DescribeDBInstancesCommand, ModifyDBInstanceCommand, RestoreDBInstanceToPointInTimeCommand } from '@aws-sdk/client-rds';
import { StartRestoreJobCommand } from '@aws-sdk/client-backup';
import { runAwsDrill, renderAwsMarkdown, TAG_RUN, type AwsDrillOptions, type AwsVerification, type VerifyTarget } from '../../src/drills/aws.js';
import type { Marker } from '../../src/drills/verify.js';
import { repoRoot } from '../../src/config.js';
import { AwsError, FakeBackup, FakeRds, instanceArn, sourceInstance, validateCommandShape } from './awsFakes.js';

const okVerification = (over: Partial<AwsVerification> = {}): AwsVerification => ({
  ok: true,
  failures: [],
  summary: { tables: 30, rows: 1200, roles: 9, rlsTables: 20, policies: 60, extensions: 5, cronJobs: 4 },
  tlsVerified: true,
  markers: null,
  cronPaused: 4,
  firstQueryMs: 5,
  ...over,
});

const TEMP = 'pgkit-prod-drill-test';
const base = (rds: FakeRds, over: Partial<AwsDrillOptions> = {}): AwsDrillOptions => ({
  rds,
  sourceInstanceId: 'pgkit-prod',
  tempInstanceId: TEMP,
  source: { kind: 'pitr', restoreTime: new Date('2025-03-01T11:00:00Z') },
  database: 'pgkit',
  tls: { ca: '' },
  pollMs: 1,
  timeoutMs: 5_000,
  verifyTimeoutMs: 5_000,
  cleanupTimeoutMs: 5_000,
  retry: { attempts: 5, baseMs: 1 },
  preflight: { reach: async () => {}, credentials: async () => ({ refreshes: true, source: 'sso' }) },
  verify: async () => okVerification(),
  ...over,
});
// A syntactically valid certificate for the CA preflight (the fixture the infra tests use).
const CA = readFileSync(join(repoRoot, 'test/infra/fixtures/fake-rds-ca-bundle.pem'), 'utf8');
const opts = (rds: FakeRds, over: Partial<AwsDrillOptions> = {}) => base(rds, { tls: { ca: CA }, ...over });

describe('the fakes enforce the SDK command shapes', () => {
  it('an unknown member, a wrong type or a missing required member is a ValidationError', () => {
    expect(() => validateCommandShape(new RestoreDBInstanceToPointInTimeCommand({ TargetDBInstanceIdentifier: 'x', VpcSecurityGroups: ['sg'] } as never))).toThrow(/VpcSecurityGroups: not a member/);
    expect(() => validateCommandShape(new RestoreDBInstanceToPointInTimeCommand({ TargetDBInstanceIdentifier: 'x', RestoreTime: '2025-01-01' } as never))).toThrow(/RestoreTime: expected a timestamp/);
    expect(() => validateCommandShape(new ModifyDBInstanceCommand({} as never))).toThrow(/DBInstanceIdentifier: required/);
    expect(() => validateCommandShape(new StartRestoreJobCommand({ RecoveryPointArn: 'a', Metadata: { A: 1 } } as never))).toThrow(/Metadata\.A: expected a string/);
    expect(validateCommandShape(new DescribeDBInstancesCommand({ MaxRecords: 100 }))).toBe('DescribeDBInstances');
  });

  it('RDS rules: ManageMasterUserPassword on a PostgreSQL restore, a bad name, a taken name, MaxRecords', async () => {
    const rds = new FakeRds();
    const restore = (i: Record<string, unknown>) => rds.send(new RestoreDBInstanceToPointInTimeCommand({ SourceDBInstanceIdentifier: 'pgkit-prod', UseLatestRestorableTime: true, ...i } as never));
    await expect(restore({ TargetDBInstanceIdentifier: 'ok-name', ManageMasterUserPassword: true })).rejects.toThrow(/Oracle only/);
    await expect(restore({ TargetDBInstanceIdentifier: 'bad--name' })).rejects.toThrow(/two consecutive hyphens/);
    await expect(restore({ TargetDBInstanceIdentifier: '1abc' })).rejects.toThrow(/first a letter/);
    await expect(restore({ TargetDBInstanceIdentifier: 'pgkit-prod' })).rejects.toMatchObject({ name: 'DBInstanceAlreadyExists' });
    await expect(rds.send(new DescribeDBInstancesCommand({ MaxRecords: 10 }))).rejects.toThrow(/between 20 and 100/);
  });
});

describe('AWS drill (fakes that behave like AWS)', () => {
  it('PITR between two marker rows: settings carried over, own password applied before connecting, RTO in phases, deleted and seen gone', async () => {
    const rds = new FakeRds();
    const seen: Array<{ t: VerifyTarget; markers: Marker[]; target: Date | null; pending: unknown; status: string | null }> = [];
    let seq = 0;
    let closed = 0;
    const markers = {
      close: async () => void closed++,
      write: async (_run: string, s: number): Promise<Marker> => {
        seq++;
        const at = Date.now();
        // the source's latest restorable time moves past what was written
        rds.instances.get('pgkit-prod')!.LatestRestorableTime = new Date(at + 10);
        return { seq: s, sentAt: at, ackedAt: at + 1 };
      },
    };
    const r = await runAwsDrill(
      opts(rds, {
        source: { kind: 'pitr' },
        markers,
        markerGapMs: 5,
        verify: async (t, ctx) => {
          seen.push({ t, markers: ctx.markers, target: ctx.target, pending: rds.instances.get(TEMP)?.PendingModifiedValues, status: rds.status(TEMP) });
          return okVerification();
        },
      }),
    );
    expect(r.failures).toEqual([]);
    expect(r.ok).toBe(true);
    expect(seq).toBe(2);
    expect(closed).toBe(1); // the connection to production is closed before the restore
    const restore = rds.calls.find((c) => c.command === 'RestoreDBInstanceToPointInTime')!.input;
    expect(restore).toMatchObject({
      SourceDBInstanceIdentifier: 'pgkit-prod',
      TargetDBInstanceIdentifier: TEMP,
      DBSubnetGroupName: 'pgkit-prod-db',
      VpcSecurityGroupIds: ['sg-123'],
      DBParameterGroupName: 'pgkit-prod-pg15',
      DBInstanceClass: 'db.r6g.large',
      EnableIAMDatabaseAuthentication: true,
      MaxAllocatedStorage: 1000,
      StorageType: 'gp3',
      Iops: 12000,
      StorageThroughput: 500,
      EngineLifecycleSupport: 'open-source-rds-extended-support-disabled',
      MultiAZ: false,
      PubliclyAccessible: false,
      DeletionProtection: false,
    });
    expect(restore).not.toHaveProperty('ManageMasterUserPassword');
    expect(restore).not.toHaveProperty('UseLatestRestorableTime');
    // the target lies between the two markers
    const target = (restore.RestoreTime as Date).getTime();
    expect(seen[0].markers[0].ackedAt).toBeLessThanOrEqual(target);
    expect(seen[0].markers[1].sentAt).toBeGreaterThan(target);
    expect(seen[0].target?.getTime()).toBe(target);
    expect((restore.Tags as Array<{ Key: string; Value: string }>).find((t) => t.Key === TAG_RUN)?.Value).toBe(r.runId);
    // the drill logs in with the password it set, once RDS has applied it (not the source's secret, not the restore point's)
    expect(seen[0].t.password).toBe(rds.passwords.get(TEMP) ?? [...rds.calls].reverse().find((c) => c.command === 'ModifyDBInstance')!.input.MasterUserPassword);
    expect(seen[0].t.password).not.toBe('password-at-the-restore-point');
    expect(seen[0].pending).toBeUndefined();
    expect(seen[0].status).toBe('available');
    expect(seen[0].t).toMatchObject({ host: `${TEMP}.abcdefghij12.eu-west-1.rds.amazonaws.com`, serverName: `${TEMP}.abcdefghij12.eu-west-1.rds.amazonaws.com`, user: 'pgkit_admin', tls: { ca: CA } });
    expect(rds.calls.find((c) => c.command === 'ModifyDBInstance')!.input).toMatchObject({ DBInstanceIdentifier: TEMP, ApplyImmediately: true });
    // deleted, and seen gone
    expect(rds.deleted).toEqual([TEMP]);
    expect(rds.instances.has(TEMP)).toBe(false);
    expect(r.cleanup).toEqual({ attempted: true, deleted: true, error: null });
    expect(r.rto.availableFrom).toBe('rds-event');
    expect(r.rto.credentialsMs).not.toBeNull();
    expect(r.rto.firstQueryMs).toBe(5);
    expect(renderAwsMarkdown(r)).toMatch(/PASSED[\s\S]*restore request → available[\s\S]*own password applied[\s\S]*deleted \(seen gone\)/);
  });

  it('a name that exists before the call is refused and nothing is deleted (the source included)', async () => {
    for (const temp of ['pgkit-prod', 'PGKIT-PROD', 'pgkit-staging']) {
      const rds = new FakeRds({ instances: [sourceInstance({ DeletionProtection: false }), sourceInstance({ DBInstanceIdentifier: 'pgkit-staging', DBInstanceArn: instanceArn('pgkit-staging'), DeletionProtection: false })] });
      const r = await runAwsDrill(opts(rds, { tempInstanceId: temp }));
      expect(r.ok).toBe(false);
      expect(r.failures[0]).toMatch(/preflight failed, nothing was restored/);
      expect(rds.names()).not.toContain('RestoreDBInstanceToPointInTime');
      expect(rds.names()).not.toContain('DeleteDBInstance');
      expect(rds.instances.has(temp.toLowerCase())).toBe(true);
      expect(r.created).toBe(false);
      expect(renderAwsMarkdown(r)).toMatch(/not created by this run/);
    }
  });

  it('a small gp3 source: its baseline IOPS and throughput are not passed (AWS rejects them below 400 GiB)', async () => {
    const rds = new FakeRds({ instances: [sourceInstance({ AllocatedStorage: 100, Iops: 3000, StorageThroughput: 125 })] });
    const r = await runAwsDrill(opts(rds));
    expect(r.failures).toEqual([]);
    const restore = rds.calls.find((c) => c.command === 'RestoreDBInstanceToPointInTime')!.input;
    expect(restore).toMatchObject({ StorageType: 'gp3', MaxAllocatedStorage: 1000 });
    expect(restore).not.toHaveProperty('Iops');
    expect(restore).not.toHaveProperty('StorageThroughput');
  });

  it('a restore whose answer was lost: the retry reads DBInstanceAlreadyExists, and the instance carrying this run\'s tag is still cleaned up', async () => {
    const rds = new FakeRds();
    const send = rds.send.bind(rds);
    let lost = false;
    rds.send = async (c) => {
      const out = await send(c);
      if (c.constructor.name === 'RestoreDBInstanceToPointInTimeCommand' && !lost) {
        lost = true;
        throw new AwsError('RequestTimeout', 'socket hang up', { status: 500 });
      }
      return out;
    };
    const r = await runAwsDrill(opts(rds));
    expect(r.failures).toEqual(['DB instance already exists']);
    expect(r.created).toBe(true);
    expect(rds.deleted).toEqual([TEMP]);
  });

  it('a restore AWS rejects (name taken in between) deletes nothing', async () => {
    const rds = new FakeRds({ restoreError: new AwsError('DBInstanceAlreadyExists', 'DB instance already exists') });
    const r = await runAwsDrill(opts(rds));
    expect(r.failures).toEqual(['DB instance already exists']);
    expect(rds.names()).not.toContain('DeleteDBInstance');
    expect(r.cleanup.attempted).toBe(false);
  });

  it('an invalid temporary name is refused before anything is restored', async () => {
    for (const temp of ['pgkit-prod--drill', 'pgkit-prod-drill-', '9pgkit', `p${'x'.repeat(63)}`]) {
      const rds = new FakeRds();
      const r = await runAwsDrill(opts(rds, { tempInstanceId: temp }));
      expect(r.ok).toBe(false);
      expect(r.preflight.find((c) => c.check === 'temporary instance name')?.ok).toBe(false);
      expect(rds.names()).not.toContain('RestoreDBInstanceToPointInTime');
    }
  });

  it('SIGINT/SIGTERM while the instance is being created: the drill stops waiting, deletes it once RDS allows, and sees it gone', async () => {
    const ac = new AbortController();
    let creatingSeen = 0;
    const rds: FakeRds = new FakeRds({
      creatingSteps: 4,
      onCall: (c) => {
        if (c.command === 'DescribeDBInstances' && c.input.DBInstanceIdentifier === TEMP && rds.status(TEMP) === 'creating' && ++creatingSeen === 1) ac.abort();
      },
    });
    const r = await runAwsDrill(opts(rds, { signal: ac.signal }));
    expect(r.ok).toBe(false);
    expect(r.failures[0]).toMatch(/interrupted/);
    expect(rds.count('DeleteDBInstance')).toBeGreaterThan(1); // refused while 'creating', retried
    expect(rds.deleted).toEqual([TEMP]);
    expect(r.cleanup.deleted).toBe(true);
    expect(r.verification).toBeNull();
  });

  it('the start-of-run sweep pages through all instances, reports orphans by tag, and removes only this source\'s with --remove-orphans', async () => {
    const orphan = (id: string, source: string) => sourceInstance({ DBInstanceIdentifier: id, DBInstanceArn: instanceArn(id), DeletionProtection: false, TagList: [{ Key: 'pgkit:drill', Value: '2025-01-01' }, { Key: 'pgkit:drill-source', Value: source }] });
    const fill = Array.from({ length: 5 }, (_, i) => sourceInstance({ DBInstanceIdentifier: `app-${i}`, DBInstanceArn: instanceArn(`app-${i}`) }));
    const make = () => new FakeRds({ pageSize: 2, instances: [sourceInstance(), ...fill, orphan('zz-old-drill', 'pgkit-prod'), orphan('zz-other-drill', 'pgkit-staging')] });
    const rds = make();
    const r = await runAwsDrill(opts(rds));
    expect(r.ok).toBe(true);
    expect(rds.calls.filter((c) => c.command === 'DescribeDBInstances' && !c.input.DBInstanceIdentifier).length).toBe(4); // 8 instances, pages of 2
    expect(r.orphans.map((x) => [x.id, x.removed])).toEqual([['zz-old-drill', false], ['zz-other-drill', false]]);
    expect(r.warnings.join(' ')).toMatch(/2 instance\(s\) tagged pgkit:drill/);
    const rds2 = make();
    const r2 = await runAwsDrill(opts(rds2, { sweep: 'remove' }));
    expect(r2.orphans.map((x) => [x.id, x.removed])).toEqual([['zz-old-drill', true], ['zz-other-drill', false]]);
    expect(rds2.calls.filter((c) => c.command === 'DeleteDBInstance').map((c) => c.input.DBInstanceIdentifier)).toEqual(['zz-old-drill', TEMP]);
  });

  it('retries throttled and transient calls with backoff', async () => {
    const rds = new FakeRds({ throttle: { DescribeDBInstances: 3, RestoreDBInstanceToPointInTime: 2, ModifyDBInstance: 1, DeleteDBInstance: 2 } });
    const r = await runAwsDrill(opts(rds));
    expect(r.failures).toEqual([]);
    expect(rds.count('RestoreDBInstanceToPointInTime')).toBe(3);
    expect(rds.deleted).toEqual([TEMP]);
  });

  it('credentials that expire before the worst-case end of the run and are not refreshed stop the drill before the restore', async () => {
    const rds = new FakeRds();
    const soon = new Date(Date.now() + 30 * 60_000);
    const r = await runAwsDrill(opts(rds, { timeoutMs: 90 * 60_000, preflight: { reach: async () => {}, credentials: async () => ({ expiration: soon, refreshes: false, source: 'environment variables' }) } }));
    expect(r.ok).toBe(false);
    expect(r.preflight.find((c) => c.check === 'AWS credentials last the run')).toMatchObject({ ok: false, detail: expect.stringMatching(/environment variables credentials expire .* nothing refreshes them/) });
    expect(rds.names()).not.toContain('RestoreDBInstanceToPointInTime');
    // the same lifetime from a refreshing provider (SSO, assumed role, instance role) is fine
    const r2 = await runAwsDrill(opts(new FakeRds(), { preflight: { reach: async () => {}, credentials: async () => ({ expiration: soon, refreshes: true, source: 'sso' }) } }));
    expect(r2.ok).toBe(true);
  });

  it('credentials that expire mid-run (what happened without the preflight) leave a clear hand-delete command', async () => {
    const rds = new FakeRds({ credentialsExpireAfterCalls: 12 });
    const r = await runAwsDrill(opts(rds));
    expect(r.ok).toBe(false);
    expect(r.cleanup.deleted).toBe(false);
    expect(r.cleanup.error).toMatch(/aws rds delete-db-instance --db-instance-identifier pgkit-prod-drill-test --skip-final-snapshot/);
  });

  it('unreachable endpoint or tunnel, or a CA file without certificates, fail the preflight', async () => {
    const rds = new FakeRds();
    const r = await runAwsDrill(opts(rds, { tls: { ca: 'not a pem' }, connectVia: { host: '127.0.0.1', port: 15432 }, preflight: { reach: async () => Promise.reject(new Error('ECONNREFUSED')) } }));
    expect(r.preflight.filter((c) => !c.ok).map((c) => c.check)).toEqual(['RDS CA bundle', 'reachability']);
    // the message carries the exact port-forward to open, to the temporary instance's future endpoint
    expect(r.failures[0]).toContain(`SSM port-forward and pass --host 127.0.0.1 --port <local port>: aws ssm start-session --target <bastionInstanceId> --document-name AWS-StartPortForwardingSessionToRemoteHost --parameters '{"host":["${TEMP}.abcdefghij12.eu-west-1.rds.amazonaws.com"],"portNumber":["5432"],"localPortNumber":["15432"]}'`);
    expect(rds.names()).not.toContain('RestoreDBInstanceToPointInTime');
  });

  it('--host/--port: connects to the tunnel and verifies the certificate for the RDS endpoint name', async () => {
    const rds = new FakeRds();
    let t!: VerifyTarget;
    const reached: string[] = [];
    const r = await runAwsDrill(opts(rds, { connectVia: { host: '127.0.0.1', port: 15432 }, preflight: { reach: async (h, p) => void reached.push(`${h}:${p}`) }, verify: async (x) => ((t = x), okVerification()) }));
    expect(r.ok).toBe(true);
    expect(reached).toEqual(['127.0.0.1:15432']);
    expect(t).toMatchObject({ host: '127.0.0.1', port: 15432, serverName: `${TEMP}.abcdefghij12.eu-west-1.rds.amazonaws.com` });
  });

  it('--tunnel-via: a port-forward to the source in the preflight, and to the temporary instance only once it is ready (SSM ends idle sessions)', async () => {
    const rds = new FakeRds();
    const events: string[] = [];
    const tunnel = {
      open: async (remote: string, port: number) => {
        events.push(`open ${remote}:${port} (temp ${rds.status(TEMP) ?? 'absent'}, password pending ${Boolean(rds.instances.get(TEMP)?.PendingModifiedValues)})`);
        return { host: '127.0.0.1', port: 15500 + events.length, close: async () => void events.push(`close ${remote}`) };
      },
    };
    const reached: string[] = [];
    let t!: VerifyTarget;
    const r = await runAwsDrill(opts(rds, { tunnel, preflight: { reach: async (h, p) => void reached.push(`${h}:${p}`) }, verify: async (x) => ((t = x), okVerification()) }));
    expect(r.failures).toEqual([]);
    const src = 'pgkit-prod.abcdefghij12.eu-west-1.rds.amazonaws.com';
    const tmp = `${TEMP}.abcdefghij12.eu-west-1.rds.amazonaws.com`;
    expect(events).toEqual([`open ${src}:5432 (temp absent, password pending false)`, `close ${src}`, `open ${tmp}:5432 (temp available, password pending false)`, `close ${tmp}`]);
    expect(reached).toEqual(['127.0.0.1:15501']);
    expect(t).toMatchObject({ host: '127.0.0.1', port: 15503, serverName: tmp });
  });

  it('an instance that ends in a failed state fails the drill, names the state, and is deleted', async () => {
    const rds = new FakeRds({ restoreEndsIn: 'incompatible-parameters' });
    const r = await runAwsDrill(opts(rds, { verify: async () => expect.fail('must not verify') }));
    expect(r.failures[0]).toMatch(/ended in state 'incompatible-parameters'.*describe-events/);
    expect(rds.deleted).toEqual([TEMP]);
    expect(r.cleanup).toEqual({ attempted: true, deleted: true, error: null });
  });

  it('a parameter group pending reboot is applied (reboot) before verification', async () => {
    const rds = new FakeRds({ restoredParameterApplyStatus: 'pending-reboot' });
    const r = await runAwsDrill(opts(rds));
    expect(r.ok).toBe(true);
    expect(rds.count('RebootDBInstance')).toBe(1);
    expect(r.carriedOver.parameterApplyStatus).toBe('in-sync');
  });

  it('a verification that hangs is cut at the deadline, and the instance is still deleted', async () => {
    const rds = new FakeRds();
    const r = await runAwsDrill(opts(rds, { verifyTimeoutMs: 50, verify: () => new Promise(() => {}) }));
    expect(r.failures).toEqual(['verification did not finish within 0.0008333333333333334 min']);
    expect(rds.deleted).toEqual([TEMP]);
  });

  it('a failed verification fails the drill; the instance is deleted', async () => {
    const rds = new FakeRds();
    const r = await runAwsDrill(opts(rds, { verify: async () => okVerification({ ok: false, failures: ['policy missing or changed: app.projects.x'] }) }));
    expect(r.failures).toEqual(['policy missing or changed: app.projects.x']);
    expect(r.cleanup.deleted).toBe(true);
  });

  it('when deletion is refused, the report says how to delete the instance by hand', async () => {
    const rds = new FakeRds();
    const send = rds.send.bind(rds);
    rds.send = async (c) => {
      if (c.constructor.name === 'DeleteDBInstanceCommand') throw new AwsError('AccessDenied', 'not authorized to perform rds:DeleteDBInstance', { status: 403 });
      return send(c);
    };
    const r = await runAwsDrill(opts(rds));
    expect(r.cleanup.deleted).toBe(false);
    expect(r.cleanup.error).toMatch(/DELETE IT BY HAND: aws rds delete-db-instance --db-instance-identifier pgkit-prod-drill-test --skip-final-snapshot/);
  });

  it('a deleted source: restores from its retained automated backups by SourceDbiResourceId with the given placement', async () => {
    const window = { EarliestTime: new Date('2025-02-20T00:00:00Z'), LatestTime: new Date('2025-03-01T11:55:00Z') };
    const auto = { DbiResourceId: 'db-GONE', DBInstanceIdentifier: 'pgkit-prod', Status: 'retained', Engine: 'postgres', RestoreWindow: window, IAMDatabaseAuthenticationEnabled: true, AllocatedStorage: 500, StorageType: 'gp3', Iops: 12000, StorageThroughput: 500, DBInstanceAutomatedBackupsArn: 'arn:aws:rds:eu-west-1:111122223333:auto-backup:ab-1', MasterUsername: 'pgkit_admin' };
    const noPlacement = await runAwsDrill(opts(new FakeRds({ instances: [], automatedBackups: [auto] }), { sourceDbiResourceId: 'db-GONE' }));
    expect(noPlacement.failures[0]).toMatch(/placement for a deleted source.*--subnet-group/);
    const rds = new FakeRds({ instances: [], automatedBackups: [auto] });
    const r = await runAwsDrill(opts(rds, { sourceDbiResourceId: 'db-GONE', placement: { subnetGroup: 'pgkit-prod-db', securityGroupIds: ['sg-123'], parameterGroup: 'pgkit-prod-pg15' }, instanceClass: 'db.r6g.large' }));
    expect(r.failures).toEqual([]);
    const restore = rds.calls.find((c) => c.command === 'RestoreDBInstanceToPointInTime')!.input;
    expect(restore).toMatchObject({ SourceDbiResourceId: 'db-GONE', DBSubnetGroupName: 'pgkit-prod-db', EnableIAMDatabaseAuthentication: true, Iops: 12000, StorageThroughput: 500 });
    expect(restore).not.toHaveProperty('SourceDBInstanceIdentifier');
    expect(rds.deleted).toEqual([TEMP]);
  });

  it('a restore time outside the restore window is refused before the restore', async () => {
    const rds = new FakeRds();
    const r = await runAwsDrill(opts(rds, { source: { kind: 'pitr', restoreTime: new Date('2025-03-01T12:30:00Z') } }));
    expect(r.preflight.find((c) => c.check === 'restore time in the restore window')?.ok).toBe(false);
    expect(rds.names()).not.toContain('RestoreDBInstanceToPointInTime');
  });
});

describe('AWS drill, AWS Backup path', () => {
  const points = [
    { RecoveryPointArn: 'rp-old', ResourceArn: instanceArn('pgkit-prod'), BackupVaultName: 'pgkit-vault', Status: 'COMPLETED', CreationDate: new Date('2025-02-01') },
    { RecoveryPointArn: 'rp-running', ResourceArn: instanceArn('pgkit-prod'), BackupVaultName: 'pgkit-vault', Status: 'RUNNING', CreationDate: new Date('2025-03-01') },
    { RecoveryPointArn: 'rp-other-resource', ResourceArn: instanceArn('pgkit-staging'), BackupVaultName: 'pgkit-vault', Status: 'COMPLETED', CreationDate: new Date('2025-03-01') },
    { RecoveryPointArn: 'rp-other-vault', ResourceArn: instanceArn('pgkit-prod'), BackupVaultName: 'someone-elses', Status: 'COMPLETED', CreationDate: new Date('2025-03-02') },
    { RecoveryPointArn: 'rp-new', ResourceArn: instanceArn('pgkit-prod'), BackupVaultName: 'pgkit-vault', Status: 'COMPLETED', CreationDate: new Date('2025-02-28') },
  ];
  const source = { kind: 'backup' as const, vaultName: 'pgkit-vault', iamRoleArn: 'arn:aws:iam::111122223333:role/pgkit-drill-restore' };

  it('pages through the stack vault only, restores the newest completed point, tags what the job created, verifies with its own password and deletes it', async () => {
    const rds = new FakeRds();
    const backup = new FakeBackup({ rds, recoveryPoints: points, pageSize: 1 });
    let password = '';
    const r = await runAwsDrill(opts(rds, { backup, source, verify: async (t) => ((password = t.password), okVerification()) }));
    expect(r.failures).toEqual([]);
    expect(r.recoveryPointArn).toBe('rp-new');
    expect(backup.count('ListRecoveryPointsByBackupVault')).toBe(3);
    const start = backup.calls.find((c) => c.command === 'StartRestoreJob')!.input as { Metadata: Record<string, string>; IamRoleArn: string };
    expect(start.IamRoleArn).toBe(source.iamRoleArn);
    expect(start.Metadata).toMatchObject({ DBInstanceIdentifier: TEMP, MultiAZ: 'false', PubliclyAccessible: 'false', DBSubnetGroupName: 'pgkit-prod-db', VpcSecurityGroupIds: '["sg-123"]', EnableIAMDatabaseAuthentication: 'true' });
    expect(rds.calls.find((c) => c.command === 'AddTagsToResource')!.input).toMatchObject({ ResourceName: instanceArn(TEMP) });
    expect(password).not.toBe('password-at-the-recovery-point');
    expect(rds.deleted).toEqual([TEMP]);
  });

  it('a restore job still running when the drill gives up is waited for; what it then creates is deleted, and only then "deleted"', async () => {
    const rds = new FakeRds();
    const backup = new FakeBackup({ rds, recoveryPoints: points, jobStatuses: ['PENDING', ...Array(30).fill('RUNNING'), 'COMPLETED'] });
    const r = await runAwsDrill(opts(rds, { backup, source, timeoutMs: 5, cleanupTimeoutMs: 5_000, pollMs: 1 }));
    expect(r.ok).toBe(false);
    expect(r.failures[0]).toMatch(/did not finish within/);
    expect(rds.deleted).toEqual([TEMP]);
    expect(r.cleanup.deleted).toBe(true);
  });

  it('a job still running after the clean-up deadline is reported as not cleaned up, with what to do', async () => {
    const rds = new FakeRds();
    const backup = new FakeBackup({ rds, recoveryPoints: points, jobStatuses: ['RUNNING'] });
    const r = await runAwsDrill(opts(rds, { backup, source, timeoutMs: 5, cleanupTimeoutMs: 20, pollMs: 1 }));
    expect(r.cleanup.deleted).toBe(false);
    expect(r.cleanup.error).toMatch(/restore job job-1 is still RUNNING .* creates pgkit-prod-drill-test: then aws rds delete-db-instance/);
    expect(renderAwsMarkdown(r)).not.toMatch(/deleted \(seen gone\)/);
  });

  it('a failed restore job is reported; it created nothing, so nothing is deleted', async () => {
    const rds = new FakeRds();
    const backup = new FakeBackup({ rds, recoveryPoints: points, jobStatuses: ['FAILED'], statusMessage: 'KMS key not accessible' });
    const r = await runAwsDrill(opts(rds, { backup, source: { ...source, recoveryPointArn: 'rp-x' } }));
    expect(r.failures[0]).toBe('AWS Backup restore job job-1 FAILED: KMS key not accessible');
    expect(rds.names()).not.toContain('DeleteDBInstance');
    expect(r.cleanup.deleted).toBe(false);
  });
});

describe('AWS drill, dry run', () => {
  it('prints the plan and calls nothing', async () => {
    const rds = new FakeRds();
    const r = await runAwsDrill(opts(rds, { dryRun: true }));
    expect(rds.calls).toEqual([]);
    expect(r.plan.join('\n')).toMatch(/RestoreDBInstanceToPointInTime pgkit-prod → pgkit-prod-drill-test[\s\S]*own master password[\s\S]*delete pgkit-prod-drill-test .* only if this run created it/);
    expect(renderAwsMarkdown(r)).toMatch(/DRY RUN/);
  });
});
