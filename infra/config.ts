// Typed, validated stack configuration.
//
// Every key lives in the `pgkit:` namespace. `parseConfig` is pure (raw strings in, typed
// config or a ConfigError out) so the same rules run under `pulumi preview` and in unit tests.
// A bad value fails the program before any resource is registered, and the message names the
// key and the allowed values.
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_PORTS, TESTED_PG_MAJORS } from "../src/config.js";

export const CONFIG_NAMESPACE = "pgkit";

/**
 * The project root (the folder of Pulumi.yaml, one above infra/). Config paths are relative to it and are
 * made absolute here, because nothing else runs there: the engine starts the program and every provider
 * plugin in the folder of `main` (github.com/pulumi/pulumi, pkg/engine/project.go `getPwdMain`: pwd =
 * dirname(main) = infra/; the Node language host passes it as `--pwd`, sdk/nodejs/cmd/pulumi-language-nodejs/
 * main.go), so a relative `sslrootcert` would be looked for under infra/ by the postgresql provider.
 */
export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * The first RDS for PostgreSQL minor of each major that ships pgvector 0.8, whose HNSW iterative scan
 * app.search_embeddings sets (sql/definitions/app.search_embeddings.sql): 17.1, 16.5, 15.9, 14.14. Source: AWS, "Extension versions for Amazon RDS for PostgreSQL"
 * (docs.aws.amazon.com/AmazonRDS/latest/PostgreSQLReleaseNotes/postgresql-extensions.html), the pgvector row
 * of each major's table. A major alone ("16") makes RDS pick that major's default minor, which is past these.
 */
export const PGVECTOR_08_MINIMUM_MINOR: Readonly<Record<number, number>> = { 14: 14, 15: 9, 16: 5, 17: 1 };
const PGVECTOR_08_ALLOWED = Object.entries(PGVECTOR_08_MINIMUM_MINOR)
  .reverse()
  .map(([major, minor]) => `${major}.${minor}+`)
  .join(", ");

/**
 * Issue 14: the AWS engine should be a major the kit's suite runs on (local targets: src/config.ts
 * TESTED_PG_MAJORS, chosen with PGKIT_PG_MAJOR). Another major is allowed (RDS supports it) with a warning,
 * because the SQL bundle, pg_partman and the role rules have not run on it here.
 */
export function untestedEngineWarning(engineMajor: number): string | undefined {
  if ((TESTED_PG_MAJORS as readonly number[]).includes(engineMajor)) return undefined;
  return `pgkit:engineVersion: PostgreSQL ${engineMajor} has no local test target (the suite runs on ${TESTED_PG_MAJORS.join(" and ")}; PGKIT_PG_MAJOR, README): the SQL bundle, pg_partman and the role rules have not been tested on it`;
}

/** A config path (absolute, or relative to the project root) as an absolute path. */
export const projectPath = (path: string): string => resolve(projectRoot, path);

export type Target = "aws" | "local";
export type Environment = "dev" | "staging" | "prod";
export type SslMode = "require" | "verify-ca" | "verify-full";

export interface NetworkConfig {
  /** Existing VPC; when unset a minimal VPC (private subnets + one NAT for egress) is created. */
  vpcId?: string;
  privateSubnetIds?: string[];
  vpcCidr: string;
  azCount: 2 | 3;
}

export interface DatabaseConfig {
  engineVersion: string;
  engineMajor: number;
  /** Set when engineMajor has no local test target (untestedEngineWarning); the program logs it. */
  engineWarning?: string;
  instanceClass: string;
  allocatedStorageGb: number;
  maxAllocatedStorageGb: number;
  multiAz: boolean;
  readReplicas: number;
  backupRetentionDays: number;
  backupWindow: string;
  maintenanceWindow: string;
  deletionProtection: boolean;
  performanceInsightsRetentionDays: number;
  /** CloudWatch Database Insights: standard, or advanced (needs Performance Insights retention of at least 465 days). */
  databaseInsightsMode: "standard" | "advanced";
  monitoringIntervalSeconds: number;
  slowQueryMs: number;
  maxConnections?: number;
  databaseName: string;
  adminCidr?: string;
  bastion: boolean;
  /** Lets `pulumi up` move the instance to another PostgreSQL major (off: a major change fails at preview, see infra/engineUpgrade.ts). */
  allowMajorVersionUpgrade: boolean;
}

export interface PoolerConfig {
  image: string;
  desiredCount: number;
  cpu: number;
  memory: number;
  defaultPoolSize: number;
  maxClientConn: number;
  maxDbConnections: number;
  /** DISCARD ALL after every transaction (off by default: the request context is bound to its transaction, sql/0800). */
  resetAfterTransaction: boolean;
  /** Security groups whose members may connect to the pooler, besides the program's own client group. */
  clientSecurityGroupIds: string[];
  /**
   * Pull the image from Docker Hub through an ECR pull-through cache rule (Docker Hub requires credentials: a
   * Secrets Manager secret whose name starts with `ecr-pullthroughcache/`) instead of anonymously via the NAT.
   */
  pullThroughCache?: { credentialArn: string };
}

export interface BackupConfig {
  dailyRetentionDays: number;
  weeklyRetentionDays: number;
  monthlyRetentionDays: number;
  copyRegion?: string;
  dumpsColdAfterDays: number;
  dumpsExpireAfterDays: number;
  /** AWS Backup Vault Lock on the vaults: governance (removable by an authorized user) or compliance (immutable after 3 days). */
  vaultLockMode: "governance" | "compliance";
  /** S3 Object Lock default retention on the dump bucket: each new dump version is locked this long. */
  dumpsObjectLockDays: number;
  dumpsObjectLockMode: "governance" | "compliance";
}

export interface MonitoringConfig {
  alarmEmail?: string;
}

export interface DatabaseObjectsConfig {
  manage: boolean;
  /** Override for the host Pulumi's postgresql provider and the applier connect to (an SSM tunnel, 127.0.0.1). */
  host?: string;
  port?: number;
  sslMode: SslMode;
  /** Path (on the machine running `pulumi up`) of the RDS CA bundle; required on AWS (PgBouncer's verify-full, and verify-ca / verify-full here). */
  /** Absolute (a relative pgkit:rdsCaBundlePath is resolved against the project root). */
  caBundlePath?: string;
}

export interface LocalConfig {
  host: string;
  port: number;
  poolerPort: number;
  /**
   * The login that applies the database objects: shaped like the RDS master user (LOGIN CREATEROLE
   * CREATEDB NOSUPERUSER, member of an rds_superuser stand-in), so the local target takes the same
   * path as AWS. Its password is `adminPassword` in the secrets file.
   */
  admin: string;
  /** Absolute (a relative pgkit:localSecretsFile is resolved against the project root). */
  secretsFile: string;
}

export interface StackConfig {
  target: Target;
  environment: Environment;
  network: NetworkConfig;
  database: DatabaseConfig;
  pooler: PoolerConfig;
  backups: BackupConfig;
  monitoring: MonitoringConfig;
  databaseObjects: DatabaseObjectsConfig;
  local: LocalConfig;
  tags: Record<string, string>;
}

/**
 * PgBouncer 1.24.1 (edoburu build p1): protocol-level prepared statements in transaction mode
 * (>= 1.21) and the auth_query fix for CVE-2025-2291 (1.24.1). The digest was taken from a public
 * compose file pinning this tag and could not be pulled from this environment: verify it with
 * `docker buildx imagetools inspect edoburu/pgbouncer:v1.24.1-p1` before the first `pulumi up`.
 */
export const DEFAULT_PGBOUNCER_IMAGE =
  "edoburu/pgbouncer:v1.24.1-p1@sha256:3db3d7223e93af52b4116f642951a1a5fa44702a88c2a59cf7562cac19320c9e";

/** Every key this program reads, so a typo in a stack file is reported instead of ignored. */
export const CONFIG_KEYS = [
  "target",
  "environment",
  "vpcId",
  "privateSubnetIds",
  "vpcCidr",
  "azCount",
  "engineVersion",
  "instanceClass",
  "allocatedStorageGb",
  "maxAllocatedStorageGb",
  "multiAz",
  "readReplicas",
  "backupRetentionDays",
  "backupWindow",
  "maintenanceWindow",
  "deletionProtection",
  "performanceInsightsRetentionDays",
  "databaseInsightsMode",
  "monitoringIntervalSeconds",
  "slowQueryMs",
  "maxConnections",
  "databaseName",
  "adminCidr",
  "bastion",
  "allowMajorVersionUpgrade",
  "pgbouncerImage",
  "poolerPullThroughCache",
  "poolerDockerHubCredentialArn",
  "poolerDesiredCount",
  "poolerCpu",
  "poolerMemory",
  "poolerDefaultPoolSize",
  "poolerResetAfterTransaction",
  "poolerClientSecurityGroupIds",
  "poolerMaxClientConn",
  "poolerMaxDbConnections",
  "backupDailyRetentionDays",
  "backupWeeklyRetentionDays",
  "backupMonthlyRetentionDays",
  "backupCopyRegion",
  "dumpsColdAfterDays",
  "dumpsExpireAfterDays",
  "backupVaultLockMode",
  "dumpsObjectLockDays",
  "dumpsObjectLockMode",
  "alarmEmail",
  "manageDatabaseObjects",
  "dbObjectsHost",
  "dbObjectsPort",
  "dbObjectsSslMode",
  "rdsCaBundlePath",
  "localHost",
  "localPort",
  "localPoolerPort",
  "localAdmin",
  "localSuperuser", // renamed to localAdmin: still known, so an old stack file gets a message saying so
  "localSecretsFile",
  "tags",
] as const;

export type ConfigKey = (typeof CONFIG_KEYS)[number];
export type RawConfig = Partial<Record<ConfigKey, string>>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid pgkit stack configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

const FARGATE_CPU_MEMORY: Record<number, number[]> = {
  256: [512, 1024, 2048],
  512: [1024, 2048, 3072, 4096],
  1024: [2048, 3072, 4096, 5120, 6144, 7168, 8192],
  2048: [4096, 5120, 6144, 7168, 8192, 16384],
};

/** Reads the raw strings from Pulumi config; unknown keys in the namespace are reported by parseConfig. */
export function readRawConfig(cfg: pulumi.Config = new pulumi.Config(CONFIG_NAMESPACE)): RawConfig {
  const raw: RawConfig = {};
  for (const key of CONFIG_KEYS) {
    const value = cfg.get(key);
    if (value !== undefined) raw[key] = value;
  }
  return raw;
}

/** Keys present in the stack's `pgkit:` namespace that this program does not know. */
export function unknownKeys(allConfig: Record<string, string>): string[] {
  const known = new Set<string>(CONFIG_KEYS);
  return Object.keys(allConfig)
    .filter((k) => k.startsWith(`${CONFIG_NAMESPACE}:`))
    .map((k) => k.slice(CONFIG_NAMESPACE.length + 1))
    .filter((k) => !known.has(k));
}

/** Reads, validates and returns the stack config; throws ConfigError naming every bad key. */
export function loadConfig(): StackConfig {
  const extra = unknownKeys(pulumi.runtime.allConfig());
  const problems = extra.map((k) => `pgkit:${k}: unknown key (allowed keys: ${CONFIG_KEYS.join(", ")})`);
  try {
    const parsed = parseConfig(readRawConfig());
    if (problems.length) throw new ConfigError(problems);
    return parsed;
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError([...problems, ...e.problems]);
    throw e;
  }
}

/** Pure validation: raw strings (as Pulumi hands them over) to a typed StackConfig. */
export function parseConfig(raw: RawConfig): StackConfig {
  const problems: string[] = [];
  const r = new Reader(raw, problems);

  const target = r.oneOf("target", ["aws", "local"] as const, "aws");
  const environment = r.oneOf("environment", ["dev", "staging", "prod"] as const);
  const prod = environment === "prod";

  // Network
  const vpcId = r.match("vpcId", /^vpc-[0-9a-f]{8,17}$/, "a VPC id like vpc-0123456789abcdef0");
  const privateSubnetIds = r.list("privateSubnetIds", /^subnet-[0-9a-f]{8,17}$/, "subnet ids like subnet-0123abcd");
  if ((vpcId === undefined) !== (privateSubnetIds === undefined)) {
    problems.push("pgkit:vpcId / pgkit:privateSubnetIds: set both (use an existing VPC) or neither (create one)");
  } else if (privateSubnetIds && privateSubnetIds.length < 2) {
    problems.push("pgkit:privateSubnetIds: must list at least 2 subnets in different AZs (RDS and the pooler span AZs)");
  }
  const vpcCidr = r.match("vpcCidr", CIDR, "an IPv4 CIDR like 10.40.0.0/16") ?? "10.40.0.0/16";
  if (vpcId === undefined && raw.vpcCidr !== undefined && CIDR.test(raw.vpcCidr) && !isSlash16(raw.vpcCidr)) {
    // A created VPC is cut into /20 subnets at third octets 0, 16, ... 128 (infra/network.ts): that needs the whole
    // /16 (the largest VPC AWS allows, Amazon VPC User Guide, "VPC CIDR blocks": netmask /16 to /28), aligned on it.
    problems.push(`pgkit:vpcCidr: invalid value '${raw.vpcCidr}' (allowed: a /16 with its last two octets 0, like 10.40.0.0/16: the created VPC is split into /20 subnets; for a smaller VPC create it yourself and set pgkit:vpcId and pgkit:privateSubnetIds)`);
  }
  const azCount = r.oneOf("azCount", ["2", "3"] as const, "2") === "3" ? 3 : 2;

  // Database
  const engineVersion = r.match("engineVersion", /^1[4-7](\.\d+)?$/, "a PostgreSQL major 14-17, optionally with minor (17, 17.4)") ?? "17";
  const engineMajor = Number(engineVersion.split(".")[0]);
  const engineMinor = engineVersion.includes(".") ? Number(engineVersion.split(".")[1]) : undefined;
  const pgvectorMinimum = PGVECTOR_08_MINIMUM_MINOR[engineMajor];
  if (engineMinor !== undefined && pgvectorMinimum !== undefined && engineMinor < pgvectorMinimum) {
    problems.push(
      `pgkit:engineVersion: ${engineVersion} does not ship pgvector 0.8 (minimum for PostgreSQL ${engineMajor}: ${engineMajor}.${pgvectorMinimum}; allowed: ${PGVECTOR_08_ALLOWED}, or a major alone)`,
    );
  }
  const instanceClass = r.match("instanceClass", /^db\.[a-z0-9]+\.[a-z0-9]+$/, "an RDS instance class like db.t4g.medium or db.r7g.large") ?? "db.t4g.medium";
  const allocatedStorageGb = r.int("allocatedStorageGb", 20, 65536, 50);
  const maxAllocatedStorageGb = r.int("maxAllocatedStorageGb", 20, 65536, 200);
  if (maxAllocatedStorageGb <= allocatedStorageGb) {
    problems.push(`pgkit:maxAllocatedStorageGb: must be greater than pgkit:allocatedStorageGb (${allocatedStorageGb}) so storage can autoscale (got ${maxAllocatedStorageGb})`);
  }
  const multiAz = r.bool("multiAz", prod);
  const readReplicas = r.int("readReplicas", 0, 5, 0);
  const backupRetentionDays = r.int("backupRetentionDays", 7, 35, prod ? 14 : 7);
  const backupWindow = r.match("backupWindow", /^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/, "hh24:mi-hh24:mi in UTC, like 03:00-04:00") ?? "03:00-04:00";
  const maintenanceWindow =
    r.match("maintenanceWindow", /^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d$/, "ddd:hh24:mi-ddd:hh24:mi in UTC, like sun:04:30-sun:05:30") ??
    "sun:04:30-sun:05:30";
  const deletionProtection = r.bool("deletionProtection", prod);
  if (prod && !deletionProtection) {
    problems.push("pgkit:deletionProtection: must be true when pgkit:environment is prod (allowed values in prod: true)");
  }
  // 7 (free), a whole number of 31-day months up to 23, or 731 (AWS::RDS::DBInstance PerformanceInsightsRetentionPeriod).
  const performanceInsightsRetentionDays = r.intIn("performanceInsightsRetentionDays", PI_RETENTION_DAYS, 7);
  const databaseInsightsMode = r.oneOf("databaseInsightsMode", ["standard", "advanced"] as const, "standard");
  if (databaseInsightsMode === "advanced" && performanceInsightsRetentionDays < 465) {
    // "To enable the Advanced mode of Database Insights, you must enable Performance Insights and set the Performance
    // Insights retention period to at least 465 days (15 months)" (RDS User Guide, "Considerations for Database Insights for Amazon RDS").
    problems.push(`pgkit:databaseInsightsMode: advanced needs pgkit:performanceInsightsRetentionDays of at least 465 (got ${performanceInsightsRetentionDays}; allowed: 465, 496, ... 713, 731)`);
  }
  const monitoringIntervalSeconds = r.intIn("monitoringIntervalSeconds", [1, 5, 10, 15, 30, 60], 60);
  const slowQueryMs = r.int("slowQueryMs", 50, 60000, 500);
  const maxConnections = r.optionalInt("maxConnections", 50, 5000);
  const databaseName = r.match("databaseName", /^[a-z_][a-z0-9_]{0,62}$/, "a lowercase PostgreSQL identifier") ?? "pgkit";
  const adminCidr = r.match("adminCidr", CIDR, "an IPv4 CIDR like 10.0.0.0/24 (never 0.0.0.0/0)");
  if (adminCidr && adminCidr.endsWith("/0")) {
    problems.push("pgkit:adminCidr: must not be a /0 (allowed: a private IPv4 CIDR such as your VPN range)");
  }
  const bastion = r.bool("bastion", false);
  const allowMajorVersionUpgrade = r.bool("allowMajorVersionUpgrade", false);

  // Pooler
  const image = r.match("pgbouncerImage", /^[\w.\-/:]+@sha256:[0-9a-f]{64}$/, "an image reference pinned by digest (repo[:tag]@sha256:<64 hex>)") ?? DEFAULT_PGBOUNCER_IMAGE;
  const desiredCount = r.int("poolerDesiredCount", 2, 20, 2);
  const cpu = r.intIn("poolerCpu", [256, 512, 1024, 2048], 256);
  const memory = r.intIn("poolerMemory", FARGATE_CPU_MEMORY[cpu] ?? FARGATE_CPU_MEMORY[256], (FARGATE_CPU_MEMORY[cpu] ?? [512])[0]);
  const defaultPoolSize = r.int("poolerDefaultPoolSize", 5, 500, 20);
  const maxClientConn = r.int("poolerMaxClientConn", 100, 100000, 5000);
  const maxDbConnections = r.int("poolerMaxDbConnections", 10, 5000, 80);
  const resetAfterTransaction = r.bool("poolerResetAfterTransaction", false);
  const clientSecurityGroupIds = r.list("poolerClientSecurityGroupIds", /^sg-[0-9a-f]{8,17}$/, "security group ids like sg-0123abcd") ?? [];
  const pullThrough = r.bool("poolerPullThroughCache", false);
  // CreatePullThroughCacheRule credentialArn pattern (Amazon ECR API reference): the secret's name starts with ecr-pullthroughcache/.
  const credentialArn = r.match(
    "poolerDockerHubCredentialArn",
    /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:ecr-pullthroughcache\/[A-Za-z0-9/_+=.@-]+$/,
    "the ARN of a Secrets Manager secret named ecr-pullthroughcache/<name> holding a Docker Hub username and accessToken",
  );
  if (pullThrough && !credentialArn && raw.poolerDockerHubCredentialArn === undefined) {
    problems.push("pgkit:poolerDockerHubCredentialArn: missing (allowed: required with pgkit:poolerPullThroughCache true: ECR's pull-through cache needs Docker Hub credentials, a Secrets Manager secret named ecr-pullthroughcache/<name>)");
  }
  if (pullThrough && /^[a-z0-9-]+\.[a-z0-9.-]+(:\d+)?\//.test(image)) {
    problems.push(`pgkit:pgbouncerImage: '${image}' names a registry; with pgkit:poolerPullThroughCache the image must be a Docker Hub reference (like edoburu/pgbouncer:tag@sha256:...)`);
  }

  // Backups
  const dailyRetentionDays = r.int("backupDailyRetentionDays", 7, 35, 35);
  const weeklyRetentionDays = r.int("backupWeeklyRetentionDays", 28, 366, 90);
  const monthlyRetentionDays = r.int("backupMonthlyRetentionDays", 90, 3650, 365);
  const copyRegion = r.match("backupCopyRegion", /^[a-z]{2}(-gov)?-[a-z]+-\d$/, "an AWS region like eu-west-1");
  const dumpsColdAfterDays = r.int("dumpsColdAfterDays", 1, 365, 30);
  const dumpsExpireAfterDays = r.int("dumpsExpireAfterDays", 30, 3650, 365);
  const vaultLockMode = r.oneOf("backupVaultLockMode", ["governance", "compliance"] as const, "governance");
  const dumpsObjectLockMode = r.oneOf("dumpsObjectLockMode", ["governance", "compliance"] as const, "governance");
  const dumpsObjectLockDays = r.int("dumpsObjectLockDays", 1, 3650, 30);
  if (dumpsObjectLockDays >= dumpsExpireAfterDays) {
    // A locked version cannot expire before its retention ends; the lock must end before expiry.
    problems.push(`pgkit:dumpsObjectLockDays: must be less than pgkit:dumpsExpireAfterDays (${dumpsExpireAfterDays}) (got ${dumpsObjectLockDays})`);
  }
  if (dumpsExpireAfterDays <= dumpsColdAfterDays + 90) {
    // Glacier classes bill a 90-day minimum; expiring earlier costs more than keeping.
    problems.push(`pgkit:dumpsExpireAfterDays: must be more than pgkit:dumpsColdAfterDays + 90 (${dumpsColdAfterDays + 90}) (got ${dumpsExpireAfterDays})`);
  }

  const alarmEmail = r.match("alarmEmail", /^[^@\s]+@[^@\s]+\.[^@\s]+$/, "an email address");

  // Database objects
  const manage = r.bool("manageDatabaseObjects", true);
  const host = r.match("dbObjectsHost", /^[A-Za-z0-9.\-]+$/, "a hostname or IP (e.g. 127.0.0.1 for an SSM tunnel)");
  const port = r.optionalInt("dbObjectsPort", 1, 65535);
  const sslMode = r.oneOf("dbObjectsSslMode", ["require", "verify-ca", "verify-full"] as const, "verify-full");
  const caBundlePath = raw.rdsCaBundlePath ? projectPath(raw.rdsCaBundlePath) : undefined;
  if (target === "aws" && !caBundlePath) {
    // PgBouncer verifies RDS against it (server_tls_sslmode = verify-full), and so does a verify-ca/verify-full
    // database-object connection.
    problems.push("pgkit:rdsCaBundlePath: required on AWS: PgBouncer verifies RDS against it (allowed: a path to https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem or the region's bundle)");
  }

  // Local
  const local: LocalConfig = {
    host: r.match("localHost", /^[A-Za-z0-9.\-]+$/, "a hostname or IP") ?? "127.0.0.1",
    // npm start's own defaults (src/config.ts).
    port: r.int("localPort", 1, 65535, DEFAULT_PORTS.local.pgPort),
    poolerPort: r.int("localPoolerPort", 1, 65535, DEFAULT_PORTS.local.bouncerPort),
    admin: r.match("localAdmin", /^[a-z_][a-z0-9_]*$/, "a role name") ?? "pgkit_admin",
    secretsFile: projectPath(raw.localSecretsFile ?? ".pgkit/local/secrets.json"),
  };

  if (raw.localSuperuser !== undefined) {
    problems.push(
      "pgkit:localSuperuser: renamed to pgkit:localAdmin (allowed: remove it, or set pgkit:localAdmin; the local stack's objects are now applied by the RDS-shaped admin login, default pgkit_admin, not by the postgres superuser)",
    );
  }

  const tags = r.stringMap("tags");

  if (problems.length) throw new ConfigError(problems);
  return {
    target,
    environment,
    network: { vpcId, privateSubnetIds, vpcCidr, azCount },
    database: {
      engineVersion,
      engineMajor,
      engineWarning: untestedEngineWarning(engineMajor),
      instanceClass,
      allocatedStorageGb,
      maxAllocatedStorageGb,
      multiAz,
      readReplicas,
      backupRetentionDays,
      backupWindow,
      maintenanceWindow,
      deletionProtection,
      performanceInsightsRetentionDays,
      databaseInsightsMode,
      monitoringIntervalSeconds,
      slowQueryMs,
      maxConnections,
      databaseName,
      adminCidr,
      bastion,
      allowMajorVersionUpgrade,
    },
    pooler: { image, desiredCount, cpu, memory, defaultPoolSize, maxClientConn, maxDbConnections, resetAfterTransaction, clientSecurityGroupIds, pullThroughCache: pullThrough && credentialArn ? { credentialArn } : undefined },
    backups: { dailyRetentionDays, weeklyRetentionDays, monthlyRetentionDays, copyRegion, dumpsColdAfterDays, dumpsExpireAfterDays, vaultLockMode, dumpsObjectLockDays, dumpsObjectLockMode },
    monitoring: { alarmEmail },
    databaseObjects: { manage, host, port, sslMode, caBundlePath },
    local,
    tags: { project: "pgkit", environment, "managed-by": "pulumi", ...tags },
  };
}

const CIDR = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(\d|[12]\d|3[0-2])$/;
/** A /16 on its boundary (a.b.0.0/16). */
const isSlash16 = (cidr: string): boolean => /^\d+\.\d+\.0\.0\/16$/.test(cidr);
const PI_RETENTION_DAYS = [7, ...Array.from({ length: 23 }, (_, i) => 31 * (i + 1)), 731];

/** Small helper that turns each bad value into one message naming the key and what is allowed. */
class Reader {
  constructor(
    private readonly raw: RawConfig,
    private readonly problems: string[],
  ) {}

  private fail(key: ConfigKey, allowed: string, got: string | undefined): void {
    this.problems.push(`pgkit:${key}: ${got === undefined ? "missing" : `invalid value '${got}'`} (allowed: ${allowed})`);
  }

  oneOf<T extends string>(key: ConfigKey, allowed: readonly T[], fallback?: T): T {
    const v = this.raw[key];
    if (v === undefined && fallback !== undefined) return fallback;
    if (v !== undefined && (allowed as readonly string[]).includes(v)) return v as T;
    this.fail(key, allowed.join(" | "), v);
    return allowed[0];
  }

  match(key: ConfigKey, re: RegExp, allowed: string): string | undefined {
    const v = this.raw[key];
    if (v === undefined) return undefined;
    if (re.test(v)) return v;
    this.fail(key, allowed, v);
    return undefined;
  }

  bool(key: ConfigKey, fallback: boolean): boolean {
    const v = this.raw[key];
    if (v === undefined) return fallback;
    if (v === "true" || v === "false") return v === "true";
    this.fail(key, "true | false", v);
    return fallback;
  }

  int(key: ConfigKey, min: number, max: number, fallback: number): number {
    return this.optionalInt(key, min, max) ?? fallback;
  }

  optionalInt(key: ConfigKey, min: number, max: number): number | undefined {
    const v = this.raw[key];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (/^\d+$/.test(v) && n >= min && n <= max) return n;
    this.fail(key, `an integer from ${min} to ${max}`, v);
    return undefined;
  }

  intIn(key: ConfigKey, allowed: number[], fallback: number): number {
    const v = this.raw[key];
    if (v === undefined) return fallback;
    const n = Number(v);
    if (allowed.includes(n)) return n;
    this.fail(key, allowed.join(" | "), v);
    return fallback;
  }

  list(key: ConfigKey, re: RegExp, allowed: string): string[] | undefined {
    const v = this.raw[key];
    if (v === undefined) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch {
      parsed = undefined;
    }
    if (Array.isArray(parsed) && parsed.every((x): x is string => typeof x === "string" && re.test(x))) return parsed;
    this.fail(key, `a YAML list of ${allowed}`, v);
    return undefined;
  }

  stringMap(key: ConfigKey): Record<string, string> {
    const v = this.raw[key];
    if (v === undefined) return {};
    try {
      const parsed: unknown = JSON.parse(v);
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed) && Object.values(parsed).every((x) => typeof x === "string")) {
        return parsed as Record<string, string>;
      }
    } catch {
      // fall through to the error below
    }
    this.fail(key, "a YAML map of string to string", v);
    return {};
  }
}
