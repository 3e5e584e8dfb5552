// Composes the components for one stack. `infra/index.ts` is the thin entry Pulumi loads;
// this function is what the unit tests build under mocks, once per example stack.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Backups } from "./backups.js";
import { Bastion } from "./bastion.js";
import type { StackConfig } from "./config.js";
import { ContextKeys } from "./contextKeys.js";
import { AWS_LOGIN_ROLES, Credentials, LOCAL_LOGIN_ROLES } from "./credentials.js";
import { Database } from "./database.js";
import { DatabaseObjects, type BundleInfo } from "./databaseObjects/index.js";
import { Monitoring } from "./monitoring.js";
import { Network } from "./network.js";
import { Pooler } from "./pooler/index.js";
import { PGBOUNCER_PORT, readonlyDatabaseName } from "./pooler/pgbouncer.ini.js";

export interface StackContext {
  /** Absolute repo root (where tsx resolves and the applier script lives). */
  repoRoot: string;
  /** Absolute folder of the SQL bundle. */
  sqlDir: string;
  bundle: pulumi.Input<BundleInfo>;
  /** Local target only: the local stack's admin password (`adminPassword` in its secrets file). */
  localAdminPassword?: () => string;
  /** AWS target only: PEM text of the RDS CA bundle at pgkit:rdsCaBundlePath. */
  rdsCaBundle?: () => string;
}

export type StackOutputs = Record<string, pulumi.Input<unknown>>;

export function createStack(cfg: StackConfig, ctx: StackContext): StackOutputs {
  return cfg.target === "local" ? createLocalStack(cfg, ctx) : createAwsStack(cfg, ctx);
}

/** The local stack from `npm start`: database objects only, no AWS resource at all. */
function createLocalStack(cfg: StackConfig, ctx: StackContext): StackOutputs {
  if (!ctx.localAdminPassword) throw new Error("local target needs the local stack's admin password");
  const credentials = new Credentials("pgkit-logins", { environment: cfg.environment, roles: LOCAL_LOGIN_ROLES, tags: cfg.tags });
  const objects = new DatabaseObjects("pgkit-objects", {
    connection: {
      host: cfg.local.host,
      port: cfg.local.port,
      // The RDS-shaped admin (not the postgres superuser), so the local target applies the bundle and
      // creates roles with exactly the rights it will have on RDS.
      username: cfg.local.admin,
      password: pulumi.secret(ctx.localAdminPassword()),
      sslMode: "disable", // loopback only
      superuser: false,
    },
    databaseName: cfg.database.databaseName,
    createDatabase: false,
    extensions: [],
    logins: credentials.logins,
    bundle: { repoRoot: ctx.repoRoot, dir: ctx.sqlDir, info: ctx.bundle },
    protect: false,
  });
  return {
    target: "local",
    directEndpoint: `${cfg.local.host}:${cfg.local.port}`,
    pooledEndpoint: `${cfg.local.host}:${cfg.local.poolerPort}`,
    databaseName: objects.databaseName,
    loginRoles: objects.roleNames,
    sqlBundleChecksum: objects.bundleChecksum,
  };
}

/** The IAM-authenticated login (rds_iam + pgkit_readonly), made with the database objects. */
export const IAM_LOGIN = "pgkit_ops_iam";

/** Checks whether static parameter changes wait for a reboot (docs/pulumi.md, "Pending reboot"). */
export const pendingRebootCheck = (instanceIds: string[]): string =>
  instanceIds
    .map((id) => `aws rds describe-db-instances --db-instance-identifier ${id} --query "DBInstances[0].DBParameterGroups[].ParameterApplyStatus" --output text`)
    .join(" && ");

function createAwsStack(cfg: StackConfig, ctx: StackContext): StackOutputs {
  if (cfg.database.engineWarning) pulumi.log.warn(cfg.database.engineWarning);
  if (!ctx.rdsCaBundle) throw new Error("aws target needs the RDS CA bundle (pgkit:rdsCaBundlePath)");
  const { tags, environment } = cfg;
  const prod = environment === "prod";
  const network = new Network("pgkit-net", { config: cfg.network, tags });
  const database = new Database("pgkit", {
    config: cfg.database,
    environment,
    vpcId: network.vpcId,
    privateSubnetIds: network.privateSubnetIds,
    tags,
  });

  // The logins' secrets name the pooler's endpoint and the pooler's auth_file holds the logins' verifiers:
  // no cycle between the resources, only in construction order, so the endpoint is a deferred output.
  const [pooledHost, resolvePooledHost] = pulumi.deferredOutput<string>();
  const credentials = new Credentials("pgkit-logins", {
    environment,
    roles: AWS_LOGIN_ROLES,
    secrets: {
      kmsKeyArn: database.kmsKeyArn,
      directHost: database.address,
      directPort: database.port,
      pooledHost,
      pooledPort: PGBOUNCER_PORT,
      databaseName: cfg.database.databaseName,
    },
    tags,
  });

  const pooler = new Pooler("pgkit-pooler", {
    config: cfg.pooler,
    environment,
    vpcId: network.vpcId,
    vpcCidr: network.vpcCidr,
    privateSubnetIds: network.privateSubnetIds,
    database,
    rdsCaBundle: ctx.rdsCaBundle(),
    pooledLogins: credentials.logins.filter((l) => l.spec.via === "pooler").map((l) => ({ name: l.spec.name, verifier: l.verifier })),
    kmsKeyArn: database.kmsKeyArn,
    tags,
  });
  resolvePooledHost(pooler.endpoint);

  const bastion = cfg.database.bastion
    ? new Bastion("pgkit-bastion", { vpcId: network.vpcId, subnetId: network.privateSubnetIds.apply((s) => s[0]), database, tags })
    : undefined;

  const backups = new Backups("pgkit-backups", {
    config: cfg.backups,
    environment,
    kmsKeyArn: database.kmsKeyArn,
    resourceArns: [database.instanceArn],
    tags,
  });

  const monitoring = new Monitoring("pgkit-monitoring", {
    config: cfg.monitoring,
    environment,
    kmsKeyArn: database.kmsKeyArn,
    instanceId: database.instanceId,
    postgresqlLogGroupName: database.postgresqlLogGroupName,
    parameterGroupName: database.parameterGroupName,
    replicaIds: Array.from({ length: cfg.database.readReplicas }, (_, i) => database.replicaIds.apply((ids) => ids[i])),
    allocatedStorageGb: cfg.database.allocatedStorageGb,
    maxAllocatedStorageGb: cfg.database.maxAllocatedStorageGb,
    pooledConnectionBudget: cfg.pooler.desiredCount * cfg.pooler.maxDbConnections,
    pooler: {
      clusterName: pooler.clusterName,
      serviceName: pooler.serviceName,
      targetGroupArnSuffix: pooler.targetGroupArnSuffix,
      loadBalancerArnSuffix: pooler.loadBalancerArnSuffix,
      desiredCount: pooler.desiredCount,
    },
    tags,
  });

  // IAM database authentication: the login's rds-db:connect ARN and a policy for operators' roles to attach.
  const iamAuth = database.iamAuth(IAM_LOGIN);

  // The request-context signing keys (sql/0930): in Secrets Manager for the service and the workers, registered in
  // the database with the bundle. Created in phase 1 too, so the service can be configured before phase 2.
  const contextKeys = new ContextKeys("pgkit-context-keys", { environment: cfg.environment, kmsKeyArn: database.kmsKeyArn, tags: cfg.tags });

  let objects: DatabaseObjects | undefined;
  if (cfg.databaseObjects.manage) {
    // The master password comes from the RDS-managed secret at run time; it is only ever a Pulumi secret.
    const master = aws.secretsmanager
      .getSecretVersionOutput({ secretId: database.masterSecretArn })
      .apply((v) => JSON.parse(v.secretString) as { username: string; password: string });
    objects = new DatabaseObjects("pgkit-objects", {
      connection: {
        host: cfg.databaseObjects.host ?? database.address,
        port: cfg.databaseObjects.port ?? database.port,
        username: database.masterUsername,
        password: pulumi.secret(master.apply((m) => m.password)),
        sslMode: cfg.databaseObjects.sslMode,
        sslRootCert: cfg.databaseObjects.caBundlePath,
        superuser: false,
      },
      databaseName: cfg.database.databaseName,
      // RDS created it with the instance (dbName, infra/database.ts), so pg_cron finds it from the first boot.
      createDatabase: false,
      extensions: ["pg_cron"], // the bundle creates pgcrypto, citext, vector, pg_stat_statements itself
      logins: credentials.logins,
      iamLogins: [{ name: IAM_LOGIN, groups: ["rds_iam", "pgkit_readonly"] }],
      revokePublicOnMaintenanceDatabases: true,
      bundle: { repoRoot: ctx.repoRoot, dir: ctx.sqlDir, info: ctx.bundle },
      contextKeys: contextKeys.keys,
      protect: prod,
    }, { dependsOn: [database.instance] });
  } else {
    pulumi.log.info(
      "pgkit:manageDatabaseObjects is false: the database, login roles and sql/ bundle are not managed. Once RDS exists, open the SSM tunnel, `pulumi config set pgkit:manageDatabaseObjects true` and `pulumi up` (docs/pulumi.md, Deploying)",
    );
  }

  return {
    target: "aws",
    // The restore drill's source (npm run drill:aws --instance; infra/drillAccess.ts scopes its policy to it).
    instanceId: database.instanceId,
    instanceArn: database.instanceArn,
    directEndpoint: pulumi.interpolate`${database.address}:${database.port}`,
    pooledEndpoint: pulumi.interpolate`${pooler.endpoint}:${PGBOUNCER_PORT}`,
    // Public: clients connect with sslmode=verify-full and this file as sslrootcert.
    poolerCaCertPem: pooler.caCertPem,
    // Attach it to the application's tasks/instances: only its members (and pgkit:poolerClientSecurityGroupIds) reach the pooler.
    poolerClientSecurityGroupId: pooler.clientSecurityGroupId,
    replicaEndpoints: database.replicaAddresses,
    databaseName: cfg.database.databaseName,
    // The service's read endpoint (APP_READ_DATABASE_URL: the app login, this host and database, sslmode=verify-full):
    // the pooler's read-only alias over every replica; with no replica, the primary's database (the service's read
    // router then sends every read to the primary, as it finds no standby there).
    readEndpoint: pulumi.interpolate`${pooler.endpoint}:${PGBOUNCER_PORT}`,
    readDatabaseName: cfg.database.readReplicas > 0 ? readonlyDatabaseName(cfg.database.databaseName) : cfg.database.databaseName,
    masterSecretArn: database.masterSecretArn,
    loginSecretArns: credentials.secretArns,
    // The service's and workers' token keys ([{ kid, purpose, secret }]; PGKIT_CONTEXT_KEYS of the load-test tools).
    contextKeysSecretArn: contextKeys.secretArn,
    kmsKeyArn: database.kmsKeyArn,
    backupVaultName: backups.vaultName,
    backupCopyVaultArn: backups.copyVaultArn,
    dumpBucketName: backups.dumpBucketName,
    alertsTopicArn: monitoring.topicArn,
    dashboardName: monitoring.dashboardName,
    bastionInstanceId: bastion?.instanceId,
    sqlBundleChecksum: objects?.bundleChecksum,
    // IAM login: attach the policy to the operators' roles, then `aws rds generate-db-auth-token … --username pgkit_ops_iam`.
    iamDbUserArn: iamAuth.userArn,
    iamConnectPolicyArn: iamAuth.policyArn,
    // Static parameters change only after a reboot; this prints `pending-reboot` until then (docs/pulumi.md, "Pending reboot").
    staticParameters: database.staticParameters,
    pendingRebootCheck: pulumi.all([database.instanceId, database.replicaIds]).apply(([id, replicas]) => pendingRebootCheck([id, ...replicas])),
    poolerImage: pooler.image,
  };
}
