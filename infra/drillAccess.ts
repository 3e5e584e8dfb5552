// What `npm run drill:aws` needs in IAM (docs/drills.md, "AWS drill"): a managed policy for whoever runs the
// drill (attach it to an on-call role or an SSO permission set) and a restore role AWS Backup assumes.
// The policy allows creating only instances named <instance>-drill-*, and changing or deleting only those
// that carry the pgkit:drill tag: even a bug in the drill cannot delete the source through this policy.
// Actions and resource types: AWS Service Authorization Reference for Amazon RDS (RestoreDBInstanceToPointInTime
// on db, auto-backup, og, pg, subgrp; Tags on create need rds:AddTagsToResource; aws:ResourceTag on db),
// AWS Backup (StartRestoreJob on recovery-point; iam:PassRole of the restore role), KMS (a restore of an
// encrypted instance creates a grant on its key: kms:CreateGrant, kms:DescribeKey) and Systems Manager
// (ssm:StartSession on the bastion with the AWS-StartPortForwardingSessionToRemoteHost document).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface DrillAccessArgs {
  /** Identifier and ARN of the source DB instance. */
  instanceId: pulumi.Input<string>;
  instanceArn: pulumi.Input<string>;
  kmsKeyArn: pulumi.Input<string>;
  backupVaultName: pulumi.Input<string>;
  bastionInstanceId?: pulumi.Input<string | undefined>;
  tags?: Record<string, string>;
}

/** The drill policy document for an instance ARN arn:<partition>:rds:<region>:<account>:db:<id>. */
export function drillPolicyDocument(a: { instanceArn: string; kmsKeyArn: string; vaultName: string; restoreRoleArn: string; bastionInstanceId?: string }): string {
  const [, partition, , region, account] = a.instanceArn.split(":");
  const id = a.instanceArn.split(":").slice(6).join(":");
  const rds = (what: string) => `arn:${partition}:rds:${region}:${account}:${what}`;
  const drillDb = rds(`db:${id}-drill-*`);
  const statements: Array<Record<string, unknown>> = [
    { Sid: "Describe", Effect: "Allow", Action: ["rds:DescribeDBInstances", "rds:DescribeDBInstanceAutomatedBackups", "rds:DescribeEvents", "rds:ListTagsForResource", "backup:DescribeRestoreJob"], Resource: "*" },
    {
      Sid: "RestoreIntoDrillInstance",
      Effect: "Allow",
      Action: ["rds:RestoreDBInstanceToPointInTime"],
      Resource: [a.instanceArn, drillDb, rds("auto-backup:*"), rds("og:*"), rds("pg:*"), rds("subgrp:*")],
    },
    // Tags on the restore call and after an AWS Backup restore: on drill instances only.
    { Sid: "TagDrillInstance", Effect: "Allow", Action: ["rds:AddTagsToResource"], Resource: drillDb },
    {
      Sid: "ChangeOnlyTaggedDrillInstances",
      Effect: "Allow",
      Action: ["rds:ModifyDBInstance", "rds:RebootDBInstance", "rds:DeleteDBInstance"],
      Resource: drillDb,
      Condition: { StringLike: { "aws:ResourceTag/pgkit:drill": "*" } },
    },
    { Sid: "EncryptedRestore", Effect: "Allow", Action: ["kms:DescribeKey", "kms:CreateGrant"], Resource: a.kmsKeyArn, Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } } },
    {
      Sid: "BackupRecoveryPoints",
      Effect: "Allow",
      Action: ["backup:ListRecoveryPointsByBackupVault", "backup:GetRecoveryPointRestoreMetadata", "backup:StartRestoreJob"],
      Resource: [`arn:${partition}:backup:${region}:${account}:backup-vault:${a.vaultName}`, `arn:${partition}:backup:${region}:${account}:recovery-point:*`],
    },
    { Sid: "PassRestoreRole", Effect: "Allow", Action: "iam:PassRole", Resource: a.restoreRoleArn, Condition: { StringEquals: { "iam:PassedToService": "backup.amazonaws.com" } } },
  ];
  if (a.bastionInstanceId) {
    statements.push(
      {
        Sid: "TunnelThroughBastion",
        Effect: "Allow",
        Action: "ssm:StartSession",
        Resource: [`arn:${partition}:ec2:${region}:${account}:instance/${a.bastionInstanceId}`, `arn:${partition}:ssm:${region}::document/AWS-StartPortForwardingSessionToRemoteHost`],
      },
      { Sid: "EndOwnSessions", Effect: "Allow", Action: "ssm:TerminateSession", Resource: `arn:${partition}:ssm:${region}:${account}:session/\${aws:userid}-*` },
    );
  }
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

export class DrillAccess extends pulumi.ComponentResource {
  readonly policyArn: pulumi.Output<string>;
  readonly restoreRoleArn: pulumi.Output<string>;

  constructor(name: string, args: DrillAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pgkit:drill:Access", name, {}, opts);
    const restoreRole = new aws.iam.Role(`${name}-restore`, {
      description: "AWS Backup assumes this role to restore RDS recovery points for the pgkit restore drill",
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "backup.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
      tags: args.tags,
    }, { parent: this });
    new aws.iam.RolePolicyAttachment(`${name}-restore`, {
      role: restoreRole.name,
      policyArn: "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
    }, { parent: this });
    const policy = new aws.iam.Policy(`${name}-policy`, {
      description: "Run npm run drill:aws (docs/drills.md): restore into <instance>-drill-*, change and delete only pgkit:drill-tagged drill instances",
      policy: pulumi
        .all([args.instanceArn, args.kmsKeyArn, args.backupVaultName, restoreRole.arn, args.bastionInstanceId])
        .apply(([instanceArn, kmsKeyArn, vaultName, restoreRoleArn, bastionInstanceId]) => drillPolicyDocument({ instanceArn, kmsKeyArn, vaultName, restoreRoleArn, bastionInstanceId })),
      tags: args.tags,
    }, { parent: this });
    this.policyArn = policy.arn;
    this.restoreRoleArn = restoreRole.arn;
    this.registerOutputs({ policyArn: this.policyArn, restoreRoleArn: this.restoreRoleArn });
  }
}

/**
 * The stack outputs with the drill's access added (AWS target only): the instance id is already there
 * (stack.ts), this adds the restore role and the policy to attach to whoever runs the drill.
 */
export function withDrillAccess(outputs: Record<string, pulumi.Input<unknown>>): Record<string, pulumi.Input<unknown>> {
  if (outputs.target !== "aws") return outputs;
  const access = new DrillAccess("pgkit-drill", {
    instanceId: outputs.instanceId as pulumi.Input<string>,
    instanceArn: outputs.instanceArn as pulumi.Input<string>,
    kmsKeyArn: outputs.kmsKeyArn as pulumi.Input<string>,
    backupVaultName: outputs.backupVaultName as pulumi.Input<string>,
    bastionInstanceId: outputs.bastionInstanceId as pulumi.Input<string | undefined>,
  });
  return { ...outputs, drillRestoreRoleArn: access.restoreRoleArn, drillPolicyArn: access.policyArn };
}
