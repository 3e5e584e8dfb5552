// Backups: three layers that fail independently.
//  1. RDS automated backups + WAL = point-in-time recovery (retention set on the instance, 7-35 days).
//  2. AWS Backup snapshots on a schedule outliving that window (daily / weekly / monthly), in a
//     KMS-encrypted vault, optionally copied to a second region.
//  3. An S3 bucket for logical dumps (pg_dump), versioned, SSE-KMS, private, aging to cold storage.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { BackupConfig, Environment } from "./config.js";

export interface BackupsArgs {
  config: BackupConfig;
  environment: Environment;
  kmsKeyArn: pulumi.Input<string>;
  /** ARNs of the RDS instances to protect (the primary; replicas hold no extra data). */
  resourceArns: pulumi.Input<string>[];
  tags: Record<string, string>;
}

export class Backups extends pulumi.ComponentResource {
  readonly vaultName: pulumi.Output<string>;
  readonly vaultArn: pulumi.Output<string>;
  readonly copyVaultArn?: pulumi.Output<string>;
  readonly planId: pulumi.Output<string>;
  readonly dumpBucketName: pulumi.Output<string>;
  readonly dumpBucketArn: pulumi.Output<string>;

  constructor(name: string, args: BackupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pgkit:infra:Backups", name, {}, opts);
    const { config, environment, tags } = args;
    const prod = environment === "prod";

    const vault = new aws.backup.Vault(`${name}-vault`, {
      name: `pgkit-${environment}`,
      kmsKeyArn: args.kmsKeyArn,
      forceDestroy: !prod, // prod refuses to delete a vault that still holds recovery points
      tags,
    }, { parent: this, protect: prod });
    this.vaultName = vault.name;
    this.vaultArn = vault.arn;

    // Recovery points outlive a mistake or a compromised credential:
    //  - Vault Lock. Governance mode (default) omits ChangeableForDays, so an authorized user can still remove
    //    the lock; compliance sets it to 3, the shortest allowed, after which the lock is immutable
    //    (AWS::Backup::BackupVault LockConfigurationType, ChangeableForDays: "you must set ChangeableForDays to 3
    //    or greater ... If this parameter is not specified, you can delete Vault Lock ... at any time").
    //    The minimum retention is the plan's shortest lifecycle, so every scheduled job stays allowed.
    //  - An access policy denying everyone DeleteRecoveryPoint and lifecycle changes on the vault.
    // A destroy removes both (they depend on the vault) before the vault itself.
    const guardVault = (resourceName: string, v: aws.backup.Vault, region?: string): void => {
      new aws.backup.VaultLockConfiguration(`${resourceName}-lock`, {
        region,
        backupVaultName: v.name,
        minRetentionDays: Math.min(config.dailyRetentionDays, config.weeklyRetentionDays, config.monthlyRetentionDays),
        maxRetentionDays: Math.max(config.dailyRetentionDays, config.weeklyRetentionDays, config.monthlyRetentionDays),
        changeableForDays: config.vaultLockMode === "compliance" ? 3 : undefined,
      }, { parent: this });
      new aws.backup.VaultPolicy(`${resourceName}-policy`, {
        region,
        backupVaultName: v.name,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [{
            Sid: "DenyRecoveryPointDeletion",
            Effect: "Deny",
            Principal: { AWS: "*" },
            Action: ["backup:DeleteRecoveryPoint", "backup:UpdateRecoveryPointLifecycle"],
            Resource: "*",
          }],
        }),
      }, { parent: this });
    };
    guardVault(`${name}-vault`, vault);

    // Cross-region copy survives the loss of the primary region (and of its KMS key).
    let copyActions: aws.types.input.backup.PlanRuleCopyAction[] | undefined;
    if (config.copyRegion) {
      const copyKey = new aws.kms.Key(`${name}-copy-key`, {
        region: config.copyRegion,
        description: `pgkit ${environment} backup copies`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        tags,
      }, { parent: this, protect: prod });
      const copyVault = new aws.backup.Vault(`${name}-copy-vault`, {
        region: config.copyRegion,
        name: `pgkit-${environment}-copy`,
        kmsKeyArn: copyKey.arn,
        forceDestroy: !prod,
        tags,
      }, { parent: this, protect: prod });
      this.copyVaultArn = copyVault.arn;
      guardVault(`${name}-copy-vault`, copyVault, config.copyRegion);
      copyActions = [{ destinationVaultArn: copyVault.arn, lifecycle: { deleteAfter: config.monthlyRetentionDays } }];
    }

    const rule = (ruleName: string, schedule: string, deleteAfter: number, copy: boolean): aws.types.input.backup.PlanRule => ({
      ruleName,
      targetVaultName: vault.name,
      schedule,
      scheduleExpressionTimezone: "UTC",
      startWindow: 60,
      completionWindow: 360,
      lifecycle: { deleteAfter },
      copyActions: copy ? copyActions : undefined,
      recoveryPointTags: { ...tags, rule: ruleName },
    });
    // After the RDS backup window (03:00-04:00 UTC by default) so the two don't compete.
    const plan = new aws.backup.Plan(`${name}-plan`, {
      name: `pgkit-${environment}`,
      rules: [
        rule("daily", "cron(0 5 * * ? *)", config.dailyRetentionDays, false),
        rule("weekly", "cron(0 5 ? * SUN *)", config.weeklyRetentionDays, false),
        rule("monthly", "cron(0 5 1 * ? *)", config.monthlyRetentionDays, true),
      ],
      tags,
    }, { parent: this });
    this.planId = plan.id;

    const backupRole = new aws.iam.Role(`${name}-backup`, {
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "backup.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
      tags,
    }, { parent: this });
    for (const [suffix, policy] of [
      ["backup", "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"],
      ["restore", "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores"],
    ] as const) {
      new aws.iam.RolePolicyAttachment(`${name}-backup-${suffix}`, { role: backupRole.name, policyArn: policy }, { parent: this });
    }
    new aws.backup.Selection(`${name}-selection`, {
      name: `pgkit-${environment}-rds`,
      planId: plan.id,
      iamRoleArn: backupRole.arn,
      resources: args.resourceArns,
    }, { parent: this });

    // Logical dumps: portable across engine versions and accounts, and restorable table by table.
    const bucket = new aws.s3.Bucket(`${name}-dumps`, {
      forceDestroy: !prod,
      tags,
    }, { parent: this, protect: prod });
    new aws.s3.BucketOwnershipControls(`${name}-dumps`, {
      bucket: bucket.id,
      rule: { objectOwnership: "BucketOwnerEnforced" }, // no ACLs at all
    }, { parent: this });
    new aws.s3.BucketPublicAccessBlock(`${name}-dumps`, {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    }, { parent: this });
    const versioning = new aws.s3.BucketVersioning(`${name}-dumps`, {
      bucket: bucket.id,
      versioningConfiguration: { status: "Enabled" }, // an overwritten or deleted dump stays recoverable
    }, { parent: this });
    // Object Lock (WORM): every new dump version is locked for dumpsObjectLockDays, so neither a mistake nor a
    // stolen credential can delete or overwrite it early. Enabled on the existing versioned bucket by this
    // resource (Amazon S3 User Guide, "Configuring S3 Object Lock": versioning first; once enabled, Object Lock
    // cannot be disabled nor versioning suspended). Governance mode (default) can be bypassed by a principal
    // with s3:BypassGovernanceRetention: dev's forceDestroy relies on that (the Terraform AWS provider under
    // @pulumi/aws empties a bucket with BypassGovernanceRetention when forced; not run against AWS here).
    // Compliance cannot be bypassed by anyone.
    new aws.s3.BucketObjectLockConfiguration(`${name}-dumps`, {
      bucket: bucket.id,
      objectLockEnabled: "Enabled",
      rule: { defaultRetention: { mode: config.dumpsObjectLockMode === "compliance" ? "COMPLIANCE" : "GOVERNANCE", days: config.dumpsObjectLockDays } },
    }, { parent: this, dependsOn: [versioning] });
    new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-dumps`, {
      bucket: bucket.id,
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: args.kmsKeyArn }, bucketKeyEnabled: true }],
    }, { parent: this });
    new aws.s3.BucketLifecycleConfiguration(`${name}-dumps`, {
      bucket: bucket.id,
      rules: [
        {
          id: "dumps-to-cold-storage",
          status: "Enabled",
          filter: {},
          transitions: [{ days: config.dumpsColdAfterDays, storageClass: "GLACIER_IR" }],
          expiration: { days: config.dumpsExpireAfterDays },
          noncurrentVersionTransitions: [{ noncurrentDays: config.dumpsColdAfterDays, storageClass: "GLACIER_IR" }],
          noncurrentVersionExpiration: { noncurrentDays: config.dumpsExpireAfterDays },
          abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
        },
        {
          // Once all versions of a dump have expired, its delete marker is left alone with nothing behind it;
          // this removes those. A rule of its own: ExpiredObjectDeleteMarker "cannot be specified with Days or
          // Date in a Lifecycle Expiration Policy" (Amazon S3 API reference, LifecycleExpiration).
          id: "remove-expired-delete-markers",
          status: "Enabled",
          filter: {},
          expiration: { expiredObjectDeleteMarker: true },
        },
      ],
    }, { parent: this });
    new aws.s3.BucketPolicy(`${name}-dumps`, {
      bucket: bucket.id,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "DenyInsecureTransport",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
        ],
      }),
    }, { parent: this });
    this.dumpBucketName = bucket.bucket;
    this.dumpBucketArn = bucket.arn;

    this.registerOutputs({ vaultName: this.vaultName, planId: this.planId, dumpBucketName: this.dumpBucketName });
  }
}
