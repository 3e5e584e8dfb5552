// Stack config validation: every validated key refuses a bad value with a message that names the key
// and what is allowed; the example stack files parse; defaults are what docs/pulumi.md says.
import { existsSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { CONFIG_KEYS, ConfigError, DEFAULT_PGBOUNCER_IMAGE, loadConfig, parseConfig, projectRoot, type RawConfig } from "../../infra/config.js";
import { rawPgkitConfig, repoRoot } from "./support/mocks.js";

const base: RawConfig = { environment: "dev", dbObjectsSslMode: "require", rdsCaBundlePath: "certs/rds-global-bundle.pem" };

function problemsOf(raw: RawConfig): string[] {
  try {
    parseConfig(raw);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

// [key, bad value, fragment of the allowed-values text the message must contain]
const BAD: [keyof RawConfig & string, string, string][] = [
  ["target", "gcp", "aws | local"],
  ["environment", "production", "dev | staging | prod"],
  ["vpcId", "my-vpc", "vpc-"],
  ["privateSubnetIds", '["subnet-1"]', "subnet ids"],
  ["vpcCidr", "10.0.0.0", "IPv4 CIDR"],
  ["vpcCidr", "10.40.0.0/24", "a /16 with its last two octets 0"],
  ["databaseInsightsMode", "premium", "standard | advanced"],
  ["allowMajorVersionUpgrade", "yes", "true | false"],
  ["poolerPullThroughCache", "on", "true | false"],
  ["poolerDockerHubCredentialArn", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:dockerhub", "ecr-pullthroughcache/"],
  ["azCount", "4", "2 | 3"],
  ["engineVersion", "13", "14-17"],
  ["instanceClass", "t3.medium", "db.t4g.medium"],
  ["allocatedStorageGb", "10", "20 to 65536"],
  ["maxAllocatedStorageGb", "abc", "20 to 65536"],
  ["multiAz", "yes", "true | false"],
  ["readReplicas", "6", "0 to 5"],
  ["backupRetentionDays", "3", "7 to 35"],
  ["backupWindow", "3am", "hh24:mi-hh24:mi"],
  ["maintenanceWindow", "sunday", "ddd:hh24:mi"],
  ["deletionProtection", "maybe", "true | false"],
  ["performanceInsightsRetentionDays", "30", "7 | 31"],
  ["monitoringIntervalSeconds", "0", "1 | 5 | 10 | 15 | 30 | 60"],
  ["slowQueryMs", "1", "50 to 60000"],
  ["maxConnections", "10", "50 to 5000"],
  ["databaseName", "Pg-Kit", "lowercase PostgreSQL identifier"],
  ["adminCidr", "0.0.0.0/0", "must not be a /0 (allowed: a private IPv4 CIDR"],
  ["adminCidr", "10.0.0.0", "IPv4 CIDR like 10.0.0.0/24"],
  ["bastion", "1", "true | false"],
  ["poolerResetAfterTransaction", "sometimes", "true | false"],
  ["poolerClientSecurityGroupIds", '["my-sg"]', "security group ids"],
  ["backupVaultLockMode", "strict", "governance | compliance"],
  ["dumpsObjectLockMode", "legal", "governance | compliance"],
  ["dumpsObjectLockDays", "0", "1 to 3650"],
  ["pgbouncerImage", "edoburu/pgbouncer:latest", "pinned by digest"],
  ["poolerDesiredCount", "1", "2 to 20"],
  ["poolerCpu", "300", "256 | 512 | 1024 | 2048"],
  ["poolerMemory", "4096", "512 | 1024 | 2048"],
  ["poolerDefaultPoolSize", "1", "5 to 500"],
  ["poolerMaxClientConn", "10", "100 to 100000"],
  ["poolerMaxDbConnections", "1", "10 to 5000"],
  ["backupDailyRetentionDays", "1", "7 to 35"],
  ["backupWeeklyRetentionDays", "7", "28 to 366"],
  ["backupMonthlyRetentionDays", "30", "90 to 3650"],
  ["backupCopyRegion", "europe", "AWS region"],
  ["dumpsColdAfterDays", "0", "1 to 365"],
  ["dumpsExpireAfterDays", "10", "30 to 3650"],
  ["alarmEmail", "oncall", "email address"],
  ["manageDatabaseObjects", "no", "true | false"],
  ["dbObjectsHost", "bad host!", "hostname or IP"],
  ["dbObjectsPort", "70000", "1 to 65535"],
  ["dbObjectsSslMode", "disable", "require | verify-ca | verify-full"],
  ["localHost", "bad host!", "hostname or IP"],
  ["localPort", "0", "1 to 65535"],
  ["localPoolerPort", "99999", "1 to 65535"],
  ["localAdmin", "Post Gres", "role name"],
  ["localSuperuser", "postgres", "renamed to pgkit:localAdmin"],
  ["tags", '["a"]', "map of string to string"],
];

describe("stack config validation", () => {
  it("has a bad-value case for every validated key", () => {
    const unvalidated = new Set(["rdsCaBundlePath", "localSecretsFile"]); // free-form paths
    const covered = new Set(BAD.map(([k]) => k));
    expect(CONFIG_KEYS.filter((k) => !unvalidated.has(k) && !covered.has(k))).toEqual([]);
  });

  it.each(BAD)("pgkit:%s = %j is refused, naming the key and the allowed values", (key, value, allowed) => {
    const problems = problemsOf({ ...base, [key]: value });
    const mine = problems.filter((p) => p.startsWith(`pgkit:${key}`));
    expect(mine.length, problems.join("\n")).toBeGreaterThan(0);
    expect(mine.join("\n")).toContain(allowed);
  });

  it("reports a missing environment as missing, with the allowed values", () => {
    expect(problemsOf({})).toContain("pgkit:environment: missing (allowed: dev | staging | prod)");
  });

  it("refuses deletionProtection=false in prod", () => {
    expect(problemsOf({ ...base, environment: "prod", deletionProtection: "false" }).join("\n")).toMatch(/pgkit:deletionProtection: must be true when pgkit:environment is prod/);
  });

  it("refuses a VPC without subnets (and subnets without a VPC)", () => {
    expect(problemsOf({ ...base, vpcId: "vpc-0123456789abcdef0" }).join("\n")).toContain("pgkit:vpcId / pgkit:privateSubnetIds: set both");
  });

  it("refuses a storage ceiling at or below the allocated storage", () => {
    expect(problemsOf({ ...base, allocatedStorageGb: "100", maxAllocatedStorageGb: "100" }).join("\n")).toContain("pgkit:maxAllocatedStorageGb: must be greater than");
  });

  it("requires the RDS CA bundle path on AWS whatever the database-object TLS mode (PgBouncer verifies RDS against it)", () => {
    for (const mode of ["require", "verify-ca", "verify-full"]) {
      expect(problemsOf({ environment: "dev", dbObjectsSslMode: mode }).join("\n")).toContain("pgkit:rdsCaBundlePath: required on AWS: PgBouncer verifies RDS");
    }
    expect(problemsOf({ environment: "dev", manageDatabaseObjects: "false" }).join("\n")).toContain("pgkit:rdsCaBundlePath: required on AWS");
    expect(problemsOf({ target: "local", environment: "dev" })).toEqual([]);
  });

  it("resolves relative paths against the project root (where Pulumi.yaml is), since the engine runs the program and providers in infra/", () => {
    const c = parseConfig({ ...base, localSecretsFile: "x/secrets.json" });
    expect(c.databaseObjects.caBundlePath).toBe(join(repoRoot, "certs/rds-global-bundle.pem"));
    expect(c.local.secretsFile).toBe(join(repoRoot, "x/secrets.json"));
    expect(existsSync(join(projectRoot, "Pulumi.yaml"))).toBe(true);
    expect(parseConfig({ ...base, rdsCaBundlePath: "/etc/rds.pem" }).databaseObjects.caBundlePath).toBe("/etc/rds.pem");
  });

  it.each(["17.0", "16.4", "15.8", "14.13", "16.1"])("engineVersion %s (no pgvector 0.8 on RDS) fails, naming the key and the minimum", (version) => {
    const major = version.split(".")[0];
    const minimum = { "17": "17.1", "16": "16.5", "15": "15.9", "14": "14.14" }[major];
    const problems = problemsOf({ ...base, engineVersion: version });
    expect(problems).toEqual([
      `pgkit:engineVersion: ${version} does not ship pgvector 0.8 (minimum for PostgreSQL ${major}: ${minimum}; allowed: 17.1+, 16.5+, 15.9+, 14.14+, or a major alone)`,
    ]);
  });

  it.each(["17.1", "16.5", "16.10", "15.9", "14.14", "14.20", "16"])("engineVersion %s (ships pgvector 0.8) is accepted", (version) => {
    expect(parseConfig({ ...base, engineVersion: version }).database.engineVersion).toBe(version);
  });

  // The created VPC's subnets are /20s at third octets 0..128 (infra/network.ts): only an aligned /16 holds them.
  it.each(["10.40.0.0/24", "10.40.0.0/20", "10.40.0.0/17", "10.40.1.0/16", "10.0.0.0/8", "10.40.128.0/16"])("vpcCidr %s (the subnet maths needs an aligned /16) fails, saying how to use a smaller VPC", (cidr) => {
    expect(problemsOf({ ...base, vpcCidr: cidr })).toEqual([
      `pgkit:vpcCidr: invalid value '${cidr}' (allowed: a /16 with its last two octets 0, like 10.40.0.0/16: the created VPC is split into /20 subnets; for a smaller VPC create it yourself and set pgkit:vpcId and pgkit:privateSubnetIds)`,
    ]);
  });

  it("vpcCidr is not checked against the subnet maths when the VPC exists (its subnets are given)", () => {
    expect(problemsOf({ ...base, vpcId: "vpc-0123456789abcdef0", privateSubnetIds: '["subnet-0123456789abcdef0","subnet-0fedcba9876543210"]', vpcCidr: "10.40.0.0/24" })).toEqual([]);
    expect(parseConfig({ ...base, vpcCidr: "172.16.0.0/16" }).network.vpcCidr).toBe("172.16.0.0/16");
  });

  it("databaseInsightsMode=advanced needs Performance Insights retention of at least 465 days", () => {
    expect(problemsOf({ ...base, databaseInsightsMode: "advanced" })).toEqual([
      "pgkit:databaseInsightsMode: advanced needs pgkit:performanceInsightsRetentionDays of at least 465 (got 7; allowed: 465, 496, ... 713, 731)",
    ]);
    expect(parseConfig({ ...base, databaseInsightsMode: "advanced", performanceInsightsRetentionDays: "465" }).database.databaseInsightsMode).toBe("advanced");
    expect(parseConfig(base).database.databaseInsightsMode).toBe("standard");
  });

  it("poolerPullThroughCache needs the Docker Hub credentials secret and a Docker Hub image", () => {
    expect(problemsOf({ ...base, poolerPullThroughCache: "true" }).join("\n")).toContain("pgkit:poolerDockerHubCredentialArn: missing (allowed: required with pgkit:poolerPullThroughCache true");
    const credentialArn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-pullthroughcache/docker-hub-AbCdEf";
    expect(parseConfig({ ...base, poolerPullThroughCache: "true", poolerDockerHubCredentialArn: credentialArn }).pooler.pullThroughCache).toEqual({ credentialArn });
    expect(parseConfig({ ...base, poolerDockerHubCredentialArn: credentialArn }).pooler.pullThroughCache).toBeUndefined(); // off unless asked
    const ghcr = `ghcr.io/acme/pgbouncer:1@sha256:${"a".repeat(64)}`;
    expect(problemsOf({ ...base, poolerPullThroughCache: "true", poolerDockerHubCredentialArn: credentialArn, pgbouncerImage: ghcr }).join("\n")).toContain("names a registry");
  });

  it("refuses a dump lock that outlasts the dumps' expiry", () => {
    expect(problemsOf({ ...base, dumpsObjectLockDays: "400" })).toEqual(["pgkit:dumpsObjectLockDays: must be less than pgkit:dumpsExpireAfterDays (365) (got 400)"]);
  });

  it("the default engine is 17, a major with a local test target; 14 and 16 are allowed with a warning naming the tested majors (issue 14)", () => {
    expect(parseConfig(base).database).toMatchObject({ engineVersion: "17", engineMajor: 17, engineWarning: undefined });
    expect(parseConfig({ ...base, engineVersion: "15.9" }).database.engineWarning).toBeUndefined();
    for (const v of ["16", "16.5", "14"]) {
      const major = v.split(".")[0];
      expect(parseConfig({ ...base, engineVersion: v }).database.engineWarning).toBe(
        `pgkit:engineVersion: PostgreSQL ${major} has no local test target (the suite runs on 15 and 17; PGKIT_PG_MAJOR, README): the SQL bundle, pg_partman and the role rules have not been tested on it`,
      );
    }
  });

  it("collects every problem in one error instead of stopping at the first", () => {
    expect(problemsOf({ ...base, environment: "qa", readReplicas: "9", poolerCpu: "1" })).toHaveLength(3);
  });

  it("applies the documented defaults", () => {
    const c = parseConfig(base);
    expect({
      target: c.target,
      engineVersion: c.database.engineVersion,
      instanceClass: c.database.instanceClass,
      backupRetentionDays: c.database.backupRetentionDays,
      multiAz: c.database.multiAz,
      deletionProtection: c.database.deletionProtection,
      image: c.pooler.image,
      desiredCount: c.pooler.desiredCount,
      databaseName: c.database.databaseName,
    }).toEqual({
      target: "aws",
      engineVersion: "17",
      instanceClass: "db.t4g.medium",
      backupRetentionDays: 7,
      multiAz: false,
      deletionProtection: false,
      image: DEFAULT_PGBOUNCER_IMAGE,
      desiredCount: 2,
      databaseName: "pgkit",
    });
  });

  it("the local target applies through the RDS-shaped admin login pgkit_admin by default, not the postgres superuser", () => {
    expect(parseConfig({ target: "local", environment: "dev" }).local.admin).toBe("pgkit_admin");
    expect(parseConfig({ target: "local", environment: "dev", localAdmin: "ops_admin" }).local.admin).toBe("ops_admin");
  });

  it("prod defaults to Multi-AZ, deletion protection and 14-day PITR", () => {
    const c = parseConfig({ ...base, environment: "prod" });
    expect([c.database.multiAz, c.database.deletionProtection, c.database.backupRetentionDays]).toEqual([true, true, 14]);
  });

  it.each(["dev", "prod", "local"])("the example stack Pulumi.%s.yaml parses", (stack) => {
    expect(() => parseConfig(rawPgkitConfig(stack))).not.toThrow();
  });

  it("loadConfig (what the program calls) rejects an unknown pgkit: key, naming it", async () => {
    await pulumi.runtime.setMocks({ newResource: () => ({ id: "x", state: {} }), call: () => ({}) }, "pgkit", "dev", true);
    pulumi.runtime.setAllConfig({ "pgkit:environment": "dev", "pgkit:dbObjectsSslMode": "require", "pgkit:instancClass": "db.t4g.large" });
    expect(() => loadConfig()).toThrow(/pgkit:instancClass: unknown key/);
  });
});
