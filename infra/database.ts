// Database: RDS PostgreSQL with pgvector available, encrypted with a customer-managed KMS key,
// private only, TLS enforced, PITR backups, Performance Insights, enhanced monitoring and logs
// in CloudWatch. The security group starts with no ingress: the pooler, the bastion and an
// optional admin CIDR each add exactly one rule (see `allowFrom*`).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { DatabaseConfig, Environment } from "./config.js";

export interface DatabaseArgs {
  config: DatabaseConfig;
  environment: Environment;
  vpcId: pulumi.Input<string>;
  privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  tags: Record<string, string>;
}

export const DB_PORT = 5432;
export const MASTER_USERNAME = "pgkit_admin";
/** The CA of the instances' server certificates; PgBouncer verifies against its regional root (infra/pooler/rdsCa.ts). */
export const RDS_CA_IDENTIFIER = "rds-ca-rsa2048-g1";

/** Parameter-group values, exported so tests (and reviewers) see them in one place. */
export function parameterGroupValues(config: DatabaseConfig): Record<string, { value: string; applyMethod: "immediate" | "pending-reboot" }> {
  const immediate = (value: string | number) => ({ value: String(value), applyMethod: "immediate" as const });
  const reboot = (value: string | number) => ({ value: String(value), applyMethod: "pending-reboot" as const });
  const values: Record<string, { value: string; applyMethod: "immediate" | "pending-reboot" }> = {
    // Query statistics for tuning, pg_cron for the maintenance jobs the SQL bundles schedule.
    shared_preload_libraries: reboot("pg_stat_statements,pg_cron"),
    "cron.database_name": reboot(config.databaseName),
    "pg_stat_statements.track": immediate("top"),
    "pg_stat_statements.max": reboot(10000),
    track_io_timing: immediate(1),
    // Clients (and PgBouncer) must use TLS.
    "rds.force_ssl": immediate(1),
    // PgBouncer's auth_query passes SCRAM verifiers through; md5 would defeat that.
    password_encryption: immediate("scram-sha-256"),
    // Slow-query and contention logging, shipped to CloudWatch Logs.
    log_min_duration_statement: immediate(config.slowQueryMs),
    log_lock_waits: immediate(1),
    log_temp_files: immediate(10240),
    log_autovacuum_min_duration: immediate(1000),
    // Bind parameters never reach the log: a slow set_config of the encryption keyring
    // (log_min_duration_statement) or a failing statement would otherwise print its values
    // (docs/security.md). PostgreSQL >= 13 settings, so in every family this program allows
    // (https://www.postgresql.org/docs/current/runtime-config-logging.html#GUC-LOG-PARAMETER-MAX-LENGTH).
    // Modifiable on RDS: seen as `"IsModifiable": true`, dynamic, in a published
    // `describe-engine-default-parameters` listing (an Aurora PostgreSQL one); not checked against an RDS
    // postgres14-17 family from here (no AWS access): docs/pulumi.md has the one-line check.
    log_parameter_max_length: immediate(0),
    log_parameter_max_length_on_error: immediate(0),
    // DDL is logged; role DDL carries SCRAM verifiers only, never a plaintext password (infra/credentials.ts).
    log_statement: immediate("ddl"),
    // A forgotten open transaction blocks vacuum and holds pooled connections.
    idle_in_transaction_session_timeout: immediate(60000),
    timezone: immediate("UTC"),
  };
  if (config.maxConnections) values.max_connections = reboot(config.maxConnections);
  return values;
}

/** The logs every instance exports to CloudWatch Logs. */
const LOG_EXPORTS = ["postgresql", "upgrade"] as const;

export class Database extends pulumi.ComponentResource {
  readonly kmsKeyArn: pulumi.Output<string>;
  readonly securityGroupId: pulumi.Output<string>;
  readonly instanceId: pulumi.Output<string>;
  readonly instanceArn: pulumi.Output<string>;
  readonly address: pulumi.Output<string>;
  readonly port: pulumi.Output<number>;
  readonly replicaAddresses: pulumi.Output<string[]>;
  readonly replicaIds: pulumi.Output<string[]>;
  readonly masterSecretArn: pulumi.Output<string>;
  readonly masterUsername = MASTER_USERNAME;
  /** The primary's `postgresql` log export group (the scheduled-job failure filter reads it). */
  readonly postgresqlLogGroupName: pulumi.Output<string>;
  /** The primary's DbiResourceId, the part of an `rds-db:connect` ARN that names the instance. */
  readonly resourceId: pulumi.Output<string>;
  readonly parameterGroupName: pulumi.Output<string>;
  /** Parameters that take effect only after a reboot (applyMethod pending-reboot). */
  readonly staticParameters: string[];
  readonly databaseName: string;
  readonly instance: aws.rds.Instance;
  private readonly name: string;
  private readonly securityGroup: aws.ec2.SecurityGroup;
  private readonly accountId: pulumi.Output<string>;
  private readonly region: pulumi.Output<string>;

  constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pgkit:infra:Database", name, {}, opts);
    const { config, environment, tags } = args;
    const prod = environment === "prod";
    this.name = name;
    this.databaseName = config.databaseName;
    const identifier = `${name}-${environment}`;
    const caller = aws.getCallerIdentityOutput({}, { parent: this });
    const region = aws.getRegionOutput({}, { parent: this });
    this.accountId = caller.accountId;
    this.region = region.region;
    // Confused-deputy guard for service principals acting for this account only (IAM User Guide, "The confused
    // deputy problem": aws:SourceAccount / aws:SourceArn in resource and trust policies).
    const fromThisAccount = { StringEquals: { "aws:SourceAccount": caller.accountId } };

    // One customer-managed key for the instance, its snapshots, Performance Insights, the secrets,
    // the backup vault and the dump bucket: revoking it revokes every copy of the data.
    const key = new aws.kms.Key(`${name}-key`, {
      description: `pgkit ${environment} database, backups and secrets`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "AccountAdmin",
            Effect: "Allow",
            Principal: { AWS: pulumi.interpolate`arn:aws:iam::${caller.accountId}:root` },
            Action: "kms:*",
            Resource: "*",
          },
          {
            // CloudWatch alarms and RDS event notifications publish to the encrypted SNS topic (Amazon SNS Developer
            // Guide, "Enable compatibility between event sources from AWS services and encrypted topics"), for this
            // account's alarms and instances only.
            Sid: "AlarmsAndRdsEventsToSns",
            Effect: "Allow",
            Principal: { Service: ["cloudwatch.amazonaws.com", "events.rds.amazonaws.com"] },
            Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
            Resource: "*",
            Condition: fromThisAccount,
          },
          {
            // EventBridge delivers the failed-backup-job rule's events to the encrypted topic. No aws:SourceAccount
            // here: EventBridge's delivery to an encrypted topic is not documented to carry it, and a condition the
            // request lacks would drop every notification silently; the topic policy limits sns:Publish to the rule.
            Sid: "EventBridgeToSns",
            Effect: "Allow",
            Principal: { Service: "events.amazonaws.com" },
            Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
            Resource: "*",
          },
          {
            // RDS log exports (and the pooler's logs) write to KMS-encrypted log groups of this account and region
            // only: CloudWatch Logs passes the log group's ARN as encryption context (CloudWatch Logs User Guide,
            // "Encrypt log data in CloudWatch Logs using AWS Key Management Service", key policy with
            // kms:EncryptionContext:aws:logs:arn).
            Sid: "CloudWatchLogs",
            Effect: "Allow",
            Principal: { Service: pulumi.interpolate`logs.${region.region}.amazonaws.com` },
            Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            Resource: "*",
            Condition: {
              ArnLike: { "kms:EncryptionContext:aws:logs:arn": pulumi.interpolate`arn:aws:logs:${region.region}:${caller.accountId}:log-group:*` },
            },
          },
        ],
      }),
      tags,
    }, { parent: this, protect: prod });
    new aws.kms.Alias(`${name}-key`, { name: `alias/pgkit-${environment}`, targetKeyId: key.keyId }, { parent: this });
    this.kmsKeyArn = key.arn;

    const subnetGroup = new aws.rds.SubnetGroup(`${name}-subnets`, { subnetIds: args.privateSubnetIds, tags }, { parent: this });

    this.securityGroup = new aws.ec2.SecurityGroup(`${name}-db`, {
      vpcId: args.vpcId,
      description: "pgkit PostgreSQL: ingress only from the pooler, bastion and admin CIDR rules",
      tags: { ...tags, Name: `${name}-db` },
    }, { parent: this });
    this.securityGroupId = this.securityGroup.id;
    if (config.adminCidr) {
      new aws.vpc.SecurityGroupIngressRule(`${name}-db-from-admin`, {
        securityGroupId: this.securityGroup.id,
        description: "PostgreSQL from the admin CIDR (VPN)",
        ipProtocol: "tcp",
        fromPort: DB_PORT,
        toPort: DB_PORT,
        cidrIpv4: config.adminCidr,
        tags,
      }, { parent: this });
    }

    const family = `postgres${config.engineMajor}`;
    const parameterGroup = new aws.rds.ParameterGroup(`${name}-params`, {
      family,
      description: `pgkit ${environment} (${family})`,
      parameters: Object.entries(parameterGroupValues(config)).map(([pgName, p]) => ({ name: pgName, value: p.value, applyMethod: p.applyMethod })),
      tags,
    }, { parent: this });

    // Pre-create every instance's export targets (primary and each replica) so they get a retention and our key:
    // RDS would create /aws/rds/instance/<id>/<log> itself, without either, and keep them forever (RDS User
    // Guide, "Publishing PostgreSQL logs to Amazon CloudWatch Logs").
    const exportLogGroups = (resourceName: string, instanceIdentifier: string): aws.cloudwatch.LogGroup[] =>
      LOG_EXPORTS.map(
        (kind) =>
          new aws.cloudwatch.LogGroup(`${resourceName}-log-${kind}`, {
            name: `/aws/rds/instance/${instanceIdentifier}/${kind}`,
            retentionInDays: prod ? 90 : 30,
            kmsKeyId: key.arn,
            tags,
          }, { parent: this }),
      );
    const logGroups = exportLogGroups(name, identifier);

    // Enhanced monitoring assumes this role for this account's instances only (RDS User Guide, "Setting up and
    // enabling Enhanced Monitoring", confused deputy prevention: aws:SourceArn and aws:SourceAccount in the trust policy).
    const monitoringRole = new aws.iam.Role(`${name}-monitoring`, {
      assumeRolePolicy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [{
          Effect: "Allow",
          Principal: { Service: "monitoring.rds.amazonaws.com" },
          Action: "sts:AssumeRole",
          Condition: {
            StringEquals: { "aws:SourceAccount": caller.accountId },
            ArnLike: { "aws:SourceArn": pulumi.interpolate`arn:aws:rds:${region.region}:${caller.accountId}:db:${identifier}*` },
          },
        }],
      }),
      tags,
    }, { parent: this });
    const monitoringAttachment = new aws.iam.RolePolicyAttachment(`${name}-monitoring`, {
      role: monitoringRole.name,
      policyArn: "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
    }, { parent: this });

    const observability = {
      performanceInsightsEnabled: true,
      performanceInsightsKmsKeyId: key.arn,
      performanceInsightsRetentionPeriod: config.performanceInsightsRetentionDays,
      // CloudWatch Database Insights (standard, or advanced with retention >= 465 days: checked in infra/config.ts).
      databaseInsightsMode: config.databaseInsightsMode,
      monitoringInterval: config.monitoringIntervalSeconds,
      monitoringRoleArn: monitoringRole.arn,
      enabledCloudwatchLogsExports: [...LOG_EXPORTS],
    };

    // The final snapshot (prod) gets a random suffix, drawn once and kept in state: a fixed name would make the
    // destroy of a recreated stack fail, the snapshot of the previous one still holding it (RDS API reference,
    // DeleteDBInstance: FinalDBSnapshotIdentifier, error DBSnapshotAlreadyExists).
    const finalSnapshot = prod ? new random.RandomId(`${name}-final-snapshot`, { byteLength: 4 }, { parent: this }) : undefined;
    this.instance = new aws.rds.Instance(`${name}-primary`, {
      identifier,
      engine: "postgres",
      engineVersion: config.engineVersion,
      // Minor upgrades in the maintenance window; majors are a deliberate config change.
      autoMinorVersionUpgrade: true,
      // Off unless pgkit:allowMajorVersionUpgrade: a major change otherwise fails at preview (infra/engineUpgrade.ts).
      allowMajorVersionUpgrade: config.allowMajorVersionUpgrade,
      instanceClass: config.instanceClass,
      storageType: "gp3",
      allocatedStorage: config.allocatedStorageGb,
      maxAllocatedStorage: config.maxAllocatedStorageGb,
      storageEncrypted: true,
      kmsKeyId: key.arn,
      // The database exists from the start: cron.database_name names it (parameterGroupValues), and pg_cron's
      // launcher, a background worker connecting to that database, fails and is restarted by the postmaster every
      // second while it is missing (pg_cron src/pg_cron.c: bgw_restart_time = 1). RDS creates it with the instance
      // (RDS API reference, CreateDBInstance DBName: "the name of the database to create when the DB instance is
      // created"); DatabaseObjects no longer creates it. db_name forces a new instance in the provider
      // (terraform-provider-aws internal/service/rds/instance.go, ForceNew), so it is in ignoreChanges: a stack
      // created before keeps its instance (and its database, made by the former DatabaseObjects).
      dbName: config.databaseName,
      username: MASTER_USERNAME,
      manageMasterUserPassword: true, // RDS keeps (and rotates) it in Secrets Manager; never in state
      masterUserSecretKmsKeyId: key.arn,
      iamDatabaseAuthenticationEnabled: true,
      port: DB_PORT,
      multiAz: config.multiAz,
      dbSubnetGroupName: subnetGroup.name,
      vpcSecurityGroupIds: [this.securityGroup.id],
      publiclyAccessible: false,
      parameterGroupName: parameterGroup.name,
      caCertIdentifier: RDS_CA_IDENTIFIER,
      backupRetentionPeriod: config.backupRetentionDays, // > 0 enables PITR
      backupWindow: config.backupWindow,
      maintenanceWindow: config.maintenanceWindow,
      copyTagsToSnapshot: true,
      deleteAutomatedBackups: !prod, // prod keeps its PITR window even after an accidental delete
      deletionProtection: config.deletionProtection,
      skipFinalSnapshot: !prod,
      finalSnapshotIdentifier: finalSnapshot ? pulumi.interpolate`${identifier}-final-${finalSnapshot.hex}` : undefined,
      applyImmediately: !prod,
      ...observability,
      tags,
    }, { parent: this, dependsOn: [...logGroups, monitoringAttachment], protect: prod, ignoreChanges: ["dbName"] });

    const replicas: aws.rds.Instance[] = [];
    for (let i = 0; i < config.readReplicas; i++) {
      const replicaIdentifier = `${identifier}-replica-${i}`;
      const replicaLogGroups = exportLogGroups(`${name}-replica-${i}`, replicaIdentifier);
      replicas.push(
        new aws.rds.Instance(`${name}-replica-${i}`, {
          identifier: replicaIdentifier,
          replicateSourceDb: this.instance.identifier,
          instanceClass: config.instanceClass,
          storageType: "gp3",
          maxAllocatedStorage: config.maxAllocatedStorageGb,
          storageEncrypted: true,
          kmsKeyId: key.arn,
          iamDatabaseAuthenticationEnabled: true,
          vpcSecurityGroupIds: [this.securityGroup.id],
          publiclyAccessible: false,
          parameterGroupName: parameterGroup.name,
          caCertIdentifier: RDS_CA_IDENTIFIER,
          autoMinorVersionUpgrade: true,
          backupRetentionPeriod: 0, // PITR comes from the primary
          deletionProtection: config.deletionProtection,
          skipFinalSnapshot: true,
          applyImmediately: !prod,
          ...observability,
          tags: { ...tags, role: "replica" },
        }, { parent: this, dependsOn: [...replicaLogGroups, monitoringAttachment] }),
      );
    }

    this.parameterGroupName = parameterGroup.name;
    this.staticParameters = Object.entries(parameterGroupValues(config)).filter(([, p]) => p.applyMethod === "pending-reboot").map(([k]) => k);
    this.postgresqlLogGroupName = logGroups[LOG_EXPORTS.indexOf("postgresql")].name;
    this.resourceId = this.instance.resourceId;
    this.instanceId = this.instance.identifier;
    this.instanceArn = this.instance.arn;
    this.address = this.instance.address;
    this.port = this.instance.port;
    this.replicaAddresses = pulumi.all(replicas.map((r) => r.address));
    this.replicaIds = pulumi.all(replicas.map((r) => r.identifier));
    this.masterSecretArn = this.instance.masterUserSecrets.apply((secrets) => {
      const arn = secrets?.[0]?.secretArn;
      // Unknown during a first preview; a real apply always has it because manageMasterUserPassword is set.
      return arn ?? "";
    });

    this.registerOutputs({
      address: this.address,
      instanceId: this.instanceId,
      masterSecretArn: this.masterSecretArn,
      replicaAddresses: this.replicaAddresses,
    });
  }

  /**
   * IAM database authentication for `dbUser` (a role granted rds_iam): the `rds-db:connect` ARN of that user on the
   * primary, and a policy allowing it, for the operators' roles to attach (RDS User Guide, "Creating and using an IAM
   * policy for IAM database access": arn:aws:rds-db:<region>:<account>:dbuser:<DbiResourceId>/<db user>).
   */
  iamAuth(dbUser: string): { userArn: pulumi.Output<string>; policyArn: pulumi.Output<string> } {
    const userArn = pulumi.interpolate`arn:aws:rds-db:${this.region}:${this.accountId}:dbuser:${this.resourceId}/${dbUser}`;
    const policy = new aws.iam.Policy(`${this.name}-iam-connect-${dbUser}`, {
      description: `rds-db:connect as ${dbUser} to ${this.name} (IAM database authentication)`,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "rds-db:connect", Resource: userArn }],
      }),
    }, { parent: this });
    return { userArn, policyArn: policy.arn };
  }

  /** Admits PostgreSQL traffic from one security group (the pooler's, the bastion's). */
  allowFromSecurityGroup(ruleName: string, sourceSecurityGroupId: pulumi.Input<string>, description: string, opts?: pulumi.CustomResourceOptions): aws.vpc.SecurityGroupIngressRule {
    return new aws.vpc.SecurityGroupIngressRule(`${this.name}-db-from-${ruleName}`, {
      securityGroupId: this.securityGroup.id,
      description,
      ipProtocol: "tcp",
      fromPort: DB_PORT,
      toPort: DB_PORT,
      referencedSecurityGroupId: sourceSecurityGroupId,
    }, { parent: this, ...opts });
  }
}
