// Pooler: PgBouncer on ECS Fargate behind an internal NLB.
// At least two tasks across the private subnets (ECS spreads a service's tasks over the AZs of its
// subnets; AZ rebalancing keeps it that way after an AZ recovers). Reachable only from the client
// security groups; the only database ingress it gets is one rule on the database security group.
import { createHash } from "node:crypto";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { scramVerifier } from "../../src/local/secrets.js";
import type { Environment, PoolerConfig } from "../config.js";
import { SCRAM_ITERATIONS, SCRAM_SALT_BYTES, secretNamePrefix } from "../credentials.js";
import type { Database } from "../database.js";
import {
  CONTAINER_FILES, ENTRYPOINT_SCRIPT, HEALTH_LOGIN, PGBOUNCER_PORT, healthCheckCommand, healthPgpassLine, renderAuthFile, renderPgbouncerIni,
} from "./pgbouncer.ini.js";
import { regionalRdsCaBundle } from "./rdsCa.js";
import { poolerTls } from "./tls.js";

/** A login PgBouncer admits: its role name and the SCRAM verifier the server holds for it (a Pulumi secret). */
export interface PooledLogin {
  name: string;
  verifier: pulumi.Input<string>;
}

export interface PoolerArgs {
  config: PoolerConfig;
  environment: Environment;
  vpcId: pulumi.Input<string>;
  vpcCidr: pulumi.Input<string>;
  privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  database: Database;
  /** The logins clients use through the pooler; their verifiers make up PgBouncer's auth_file. */
  pooledLogins: PooledLogin[];
  /** PEM text of the RDS CA bundle (pgkit:rdsCaBundlePath); the region's certificates are shipped to the task. */
  rdsCaBundle: string;
  kmsKeyArn: pulumi.Input<string>;
  tags: Record<string, string>;
}

/** ECR pull-through cache prefix for Docker Hub (the prefix the ECR console uses for it). */
export const DOCKER_HUB_CACHE_PREFIX = "docker-hub";

/**
 * A Docker Hub reference as pulled through the account's ECR pull-through cache:
 * `<account>.dkr.ecr.<region>.amazonaws.com/docker-hub/<repo>[:tag]@sha256:…`, official images under `library/`
 * (Amazon ECR User Guide, "Pulling an image with a pull through cache rule in Amazon ECR").
 */
export function pullThroughImage(image: string, accountId: string, region: string): string {
  const repo = image.split(/[:@]/)[0];
  const withNamespace = repo.includes("/") ? image : `library/${image}`;
  return `${accountId}.dkr.ecr.${region}.amazonaws.com/${DOCKER_HUB_CACHE_PREFIX}/${withNamespace}`;
}

export class Pooler extends pulumi.ComponentResource {
  readonly endpoint: pulumi.Output<string>;
  /** The CA of the certificate PgBouncer presents: clients verify against it (sslmode=verify-full). Public. */
  readonly caCertPem: pulumi.Output<string>;
  readonly port = PGBOUNCER_PORT;
  readonly clusterName: pulumi.Output<string>;
  readonly serviceName: pulumi.Output<string>;
  readonly targetGroupArnSuffix: pulumi.Output<string>;
  readonly loadBalancerArnSuffix: pulumi.Output<string>;
  readonly securityGroupId: pulumi.Output<string>;
  /** Members of this security group may connect to the pooler. */
  readonly clientSecurityGroupId: pulumi.Output<string>;
  readonly desiredCount: number;
  /** The image reference the task pulls (Docker Hub, or the ECR pull-through cache's). */
  readonly image: pulumi.Output<string>;

  constructor(name: string, args: PoolerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pgkit:infra:Pooler", name, {}, opts);
    const { config, tags, database } = args;
    this.desiredCount = config.desiredCount;
    const region = aws.getRegionOutput({}, { parent: this });

    // Clients are admitted by security group, not by the VPC's CIDR: members of this group (the program's
    // own, exported as poolerClientSecurityGroupId, for the application's tasks to join) and of the groups in
    // pgkit:poolerClientSecurityGroupIds. An NLB with security groups filters client traffic by its own
    // group's inbound rules, which may reference other groups (AWS, Elastic Load Balancing "Update the security
    // groups for your Network Load Balancer").
    const clientSg = new aws.ec2.SecurityGroup(`${name}-clients`, {
      vpcId: args.vpcId,
      description: "pgkit PgBouncer clients: members may connect to the pooler",
      tags: { ...tags, Name: `${name}-clients` },
    }, { parent: this });
    this.clientSecurityGroupId = clientSg.id;
    const nlbSg = new aws.ec2.SecurityGroup(`${name}-nlb`, {
      vpcId: args.vpcId,
      description: "pgkit PgBouncer NLB: the client security groups only",
      ingress: [{
        protocol: "tcp", fromPort: PGBOUNCER_PORT, toPort: PGBOUNCER_PORT,
        securityGroups: [clientSg.id, ...config.clientSecurityGroupIds],
        description: "PgBouncer from the client security groups",
      }],
      egress: [{ protocol: "tcp", fromPort: PGBOUNCER_PORT, toPort: PGBOUNCER_PORT, cidrBlocks: [args.vpcCidr], description: "to PgBouncer tasks" }],
      tags: { ...tags, Name: `${name}-nlb` },
    }, { parent: this });

    const taskSg = new aws.ec2.SecurityGroup(`${name}-tasks`, {
      vpcId: args.vpcId,
      description: "pgkit PgBouncer tasks",
      ingress: [{ protocol: "tcp", fromPort: PGBOUNCER_PORT, toPort: PGBOUNCER_PORT, securityGroups: [nlbSg.id], description: "from the NLB" }],
      egress: [
        { protocol: "tcp", fromPort: 5432, toPort: 5432, securityGroups: [database.securityGroupId], description: "to RDS" },
        // Image pull, Secrets Manager and CloudWatch Logs (via NAT or VPC endpoints).
        { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"], description: "HTTPS to AWS APIs and the registry" },
      ],
      tags: { ...tags, Name: `${name}-tasks` },
    }, { parent: this });
    this.securityGroupId = taskSg.id;
    database.allowFromSecurityGroup("pooler", taskSg.id, "PostgreSQL from the PgBouncer tasks");

    const logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, {
      retentionInDays: args.environment === "prod" ? 90 : 30,
      kmsKeyId: args.kmsKeyArn,
      tags,
    }, { parent: this });

    const cluster = new aws.ecs.Cluster(`${name}-cluster`, {
      settings: [{ name: "containerInsights", value: "enabled" }], // RunningTaskCount for the health alarm
      tags,
    }, { parent: this });

    // The NLB passes TCP through (TLS ends in PgBouncer); its DNS name is the name the certificate carries.
    const nlb = new aws.lb.LoadBalancer(`${name}-nlb`, {
      internal: true,
      loadBalancerType: "network",
      subnets: args.privateSubnetIds,
      securityGroups: [nlbSg.id],
      enableCrossZoneLoadBalancing: true,
      enableDeletionProtection: args.environment === "prod",
      tags,
    }, { parent: this });

    const clientTls = poolerTls(name, { dnsName: nlb.dnsName, environment: args.environment }, this);

    const assume = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" }],
    });
    // The pooler's own secret: JSON whose keys ECS hands to the container one by one (valueFrom with a
    // JSON key): the auth_file and the private key of the client-facing certificate. The auth_file holds only
    // verifiers, but a verifier lets whoever holds it pose as the server to a client, so it is kept like a
    // password: KMS-encrypted, a Pulumi secret, never in the task definition.
    const poolerSecret = new aws.secretsmanager.Secret(`${name}-secret`, {
      namePrefix: secretNamePrefix(args.environment, "pooler"), // survives destroy + recreate (infra/credentials.ts)
      description: `pgkit ${args.environment} PgBouncer: auth_file of SCRAM verifiers and TLS private key`,
      kmsKeyId: args.kmsKeyArn,
      recoveryWindowInDays: args.environment === "prod" ? 30 : 7,
      tags: { ...tags, role: "pgbouncer" },
    }, { parent: this });
    // The health check's own login (HEALTH_LOGIN): a password of its own, its verifier in the auth_file, the password
    // in a libpq password file the entrypoint writes; salt kept in state like the logins' (infra/credentials.ts).
    const healthPassword = new random.RandomPassword(`${name}-health`, { length: 40, special: false }, { parent: this });
    const healthSalt = new random.RandomBytes(`${name}-health-salt`, {
      length: SCRAM_SALT_BYTES,
      keepers: { password: pulumi.secret(healthPassword.result).apply((p) => createHash("sha256").update(p).digest("hex")) },
    }, { parent: this });
    const healthVerifier = pulumi.all([pulumi.secret(healthPassword.result), healthSalt.base64]).apply(([p, b64]) => scramVerifier(p, SCRAM_ITERATIONS, Buffer.from(b64, "base64")));
    const authFile = pulumi
      .all([...args.pooledLogins, { name: HEALTH_LOGIN, verifier: healthVerifier }].map((l) => pulumi.all([l.name, l.verifier])))
      .apply((entries) => renderAuthFile(entries.map(([loginName, verifier]) => ({ name: loginName, verifier }))));
    const poolerSecretVersion = new aws.secretsmanager.SecretVersion(`${name}-secret`, {
      secretId: poolerSecret.id,
      secretString: pulumi.secret(pulumi.jsonStringify({ authFile, tlsKey: clientTls.keyPem, healthPgpass: healthPassword.result.apply(healthPgpassLine) })),
    }, { parent: this });
    // ECS reads a secret only when a task starts (a new value never reaches running tasks). Naming the
    // version in valueFrom (`<arn>:<json-key>:<version-stage>:<version-id>`, version-id pinned, stage
    // empty) makes every new value a new task definition revision, so `pulumi up` itself rolls the
    // service onto it. JSON keys and version ids need Fargate platform 1.4.0 or later (the service runs LATEST).
    // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html
    const fromPoolerSecret = (jsonKey: string) => pulumi.interpolate`${poolerSecret.arn}:${jsonKey}::${poolerSecretVersion.versionId}`;

    const executionRole = new aws.iam.Role(`${name}-exec`, { assumeRolePolicy: assume, tags }, { parent: this });
    new aws.iam.RolePolicyAttachment(`${name}-exec`, {
      role: executionRole.name,
      policyArn: "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
    }, { parent: this });
    // Only this one secret, and the key that decrypts it.
    new aws.iam.RolePolicy(`${name}-exec-secret`, {
      role: executionRole.id,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [poolerSecret.arn] },
          { Effect: "Allow", Action: ["kms:Decrypt"], Resource: [args.kmsKeyArn] },
        ],
      }),
    }, { parent: this });
    // Image source. By default Docker Hub, anonymously, through the one NAT IP (Docker Hub rate-limits anonymous pulls per
    // IP). With pgkit:poolerPullThroughCache, ECR caches it: a pull-through cache rule for Docker Hub with the
    // credentials secret ECR requires for it, and the execution role may create the cached repository and import the
    // image on first pull (Amazon ECR User Guide, "IAM permissions required to sync an upstream registry":
    // ecr:CreateRepository, ecr:BatchImportUpstreamImage; pulls themselves are in AmazonECSTaskExecutionRolePolicy).
    const caller = aws.getCallerIdentityOutput({}, { parent: this });
    if (config.pullThroughCache) {
      const rule = new aws.ecr.PullThroughCacheRule(`${name}-docker-hub`, {
        ecrRepositoryPrefix: DOCKER_HUB_CACHE_PREFIX,
        upstreamRegistryUrl: "registry-1.docker.io",
        credentialArn: config.pullThroughCache.credentialArn,
      }, { parent: this });
      new aws.iam.RolePolicy(`${name}-exec-pull-through`, {
        role: executionRole.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [{
            Effect: "Allow",
            Action: ["ecr:CreateRepository", "ecr:BatchImportUpstreamImage"],
            Resource: pulumi.interpolate`arn:aws:ecr:${region.region}:${caller.accountId}:repository/${rule.ecrRepositoryPrefix}/*`,
          }],
        }),
      }, { parent: this });
      this.image = pulumi.all([caller.accountId, region.region, rule.ecrRepositoryPrefix]).apply(([account, r]) => pullThroughImage(config.image, account, r));
    } else {
      this.image = pulumi.output(config.image);
    }

    // The task itself calls no AWS API.
    const taskRole = new aws.iam.Role(`${name}-task`, { assumeRolePolicy: assume, tags }, { parent: this });

    const ini = pulumi
      .all([database.address, database.port, database.replicaAddresses])
      .apply(([dbHost, dbPort, replicas]) =>
        renderPgbouncerIni({
          dbHost,
          dbPort,
          dbName: database.databaseName,
          replicaHosts: replicas,
          listenPort: PGBOUNCER_PORT,
          defaultPoolSize: config.defaultPoolSize,
          maxClientConn: config.maxClientConn,
          maxDbConnections: config.maxDbConnections,
          resetAfterTransaction: config.resetAfterTransaction,
        }),
      );

    const taskDefinition = new aws.ecs.TaskDefinition(`${name}-task`, {
      family: `${name}-${args.environment}-pgbouncer`,
      requiresCompatibilities: ["FARGATE"],
      networkMode: "awsvpc",
      cpu: String(config.cpu),
      memory: String(config.memory),
      runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
      executionRoleArn: executionRole.arn,
      taskRoleArn: taskRole.arn,
      containerDefinitions: pulumi.jsonStringify([
        {
          name: "pgbouncer",
          image: this.image, // pinned by digest (config pgkit:pgbouncerImage), from Docker Hub or the ECR pull-through cache
          essential: true,
          entryPoint: ["/bin/sh", "-c"],
          command: [ENTRYPOINT_SCRIPT],
          portMappings: [{ containerPort: PGBOUNCER_PORT, protocol: "tcp" }],
          environment: [
            { name: CONTAINER_FILES.ini.env, value: ini },
            { name: CONTAINER_FILES.serverCa.env, value: region.region.apply((r) => regionalRdsCaBundle(args.rdsCaBundle, r)) },
            { name: CONTAINER_FILES.clientTlsCert.env, value: clientTls.certPem },
          ],
          secrets: [
            { name: CONTAINER_FILES.authFile.env, valueFrom: fromPoolerSecret("authFile") },
            { name: CONTAINER_FILES.clientTlsKey.env, valueFrom: fromPoolerSecret("tlsKey") },
            { name: CONTAINER_FILES.healthPgpass.env, valueFrom: fromPoolerSecret("healthPgpass") },
          ],
          // A login through PgBouncer (TLS + SCRAM to its console), not only a TCP connect (healthCheckCommand). ECS
          // replaces a task whose container turns UNHEALTHY, and a deployment counts a new task only once it is HEALTHY
          // (Amazon ECS Developer Guide, "Determining Amazon ECS task health using container health checks").
          healthCheck: { command: ["CMD-SHELL", healthCheckCommand()], interval: 15, timeout: 5, retries: 3, startPeriod: 15 },
          ulimits: [{ name: "nofile", softLimit: 65536, hardLimit: 65536 }],
          stopTimeout: 60, // time for in-flight transactions after SIGTERM before SIGKILL
          logConfiguration: {
            logDriver: "awslogs",
            options: { "awslogs-group": logGroup.name, "awslogs-region": region.region, "awslogs-stream-prefix": "pgbouncer" },
          },
        },
      ]),
      tags,
    }, { parent: this });

    const targetGroup = new aws.lb.TargetGroup(`${name}-tg`, {
      port: PGBOUNCER_PORT,
      protocol: "TCP",
      targetType: "ip",
      vpcId: args.vpcId,
      // Long-lived client connections get time to finish when a task is replaced.
      deregistrationDelay: 120,
      healthCheck: { protocol: "TCP", port: String(PGBOUNCER_PORT), interval: 10, healthyThreshold: 2, unhealthyThreshold: 2 },
      tags,
    }, { parent: this });

    const listener = new aws.lb.Listener(`${name}-listener`, {
      loadBalancerArn: nlb.arn,
      port: PGBOUNCER_PORT,
      protocol: "TCP",
      defaultActions: [{ type: "forward", targetGroupArn: targetGroup.arn }],
      tags,
    }, { parent: this });

    const service = new aws.ecs.Service(`${name}-service`, {
      cluster: cluster.arn,
      taskDefinition: taskDefinition.arn,
      desiredCount: config.desiredCount,
      launchType: "FARGATE",
      platformVersion: "LATEST",
      availabilityZoneRebalancing: "ENABLED",
      // Never drop below the desired count during a deployment; roll back a deployment that fails.
      deploymentMinimumHealthyPercent: 100,
      deploymentMaximumPercent: 200,
      deploymentCircuitBreaker: { enable: true, rollback: true },
      // `pulumi up` waits until the deployment is steady (the tasks running and healthy, like `aws ecs wait
      // services-stable`), so it fails when the pooler does not come up instead of succeeding with it down
      // (Pulumi AWS provider, ecs.Service waitForSteadyState; with the circuit breaker a failed rollout is rolled
      // back and reported as a failure).
      waitForSteadyState: true,
      healthCheckGracePeriodSeconds: 30,
      networkConfiguration: { subnets: args.privateSubnetIds, securityGroups: [taskSg.id], assignPublicIp: false },
      loadBalancers: [{ targetGroupArn: targetGroup.arn, containerName: "pgbouncer", containerPort: PGBOUNCER_PORT }],
      propagateTags: "SERVICE",
      tags,
    }, { parent: this, dependsOn: [listener] });

    this.endpoint = nlb.dnsName;
    this.caCertPem = clientTls.caCertPem;
    this.clusterName = cluster.name;
    this.serviceName = service.name;
    this.targetGroupArnSuffix = targetGroup.arnSuffix;
    this.loadBalancerArnSuffix = nlb.arnSuffix;
    this.registerOutputs({ endpoint: this.endpoint, clusterName: this.clusterName, serviceName: this.serviceName });
  }
}
