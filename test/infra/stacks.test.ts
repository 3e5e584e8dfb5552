// Builds each example stack (dev, prod, local) under Pulumi mocks and checks the promises the
// issue makes, one assertion group per promise. AWS and the engine are mocked; the SQL bundle's
// checksum is the real one computed from sql/.
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { ResourceValidationArgs } from "@pulumi/policy";
import { parseConfig, type RawConfig } from "../../infra/config.js";
import { policies } from "../../policy/rules.js";
import { createStack } from "../../infra/stack.js";
import { pullThroughImage } from "../../infra/pooler/index.js";
import { DEFAULT_PORTS } from "../../src/config.js";
import { scramVerifier } from "../../src/local/secrets.js";
import { bundleChecksum, loadMigrations } from "../../src/migrate/index.js";
import { createMocks, FAKE_RDS_CA_BUNDLE, MOCK_PASSWORD_PREFIX, mockOutputs, mockPem, type MockOptions, rawPgkitConfig, repoRoot, resolveOutputs, settle, type Recorded } from "./support/mocks.js";

interface Built {
  recorded: Recorded[];
  outputs: Record<string, unknown>;
  of(type: string): Recorded[];
  one(type: string, name: string): Recorded;
}

const T = {
  rds: "aws:rds/instance:Instance",
  params: "aws:rds/parameterGroup:ParameterGroup",
  sg: "aws:ec2/securityGroup:SecurityGroup",
  ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  subnet: "aws:ec2/subnet:Subnet",
  lb: "aws:lb/loadBalancer:LoadBalancer",
  service: "aws:ecs/service:Service",
  task: "aws:ecs/taskDefinition:TaskDefinition",
  sse: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  pab: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  versioning: "aws:s3/bucketVersioning:BucketVersioning",
  lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  vault: "aws:backup/vault:Vault",
  plan: "aws:backup/plan:Plan",
  selection: "aws:backup/selection:Selection",
  secret: "aws:secretsmanager/secret:Secret",
  secretVersion: "aws:secretsmanager/secretVersion:SecretVersion",
  randomId: "random:index/randomId:RandomId",
  vaultLock: "aws:backup/vaultLockConfiguration:VaultLockConfiguration",
  objectLock: "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
  vaultPolicy: "aws:backup/vaultPolicy:VaultPolicy",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  tlsKey: "tls:index/privateKey:PrivateKey",
  tlsCa: "tls:index/selfSignedCert:SelfSignedCert",
  tlsCsr: "tls:index/certRequest:CertRequest",
  tlsCert: "tls:index/locallySignedCert:LocallySignedCert",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  dashboard: "aws:cloudwatch/dashboard:Dashboard",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  ec2: "aws:ec2/instance:Instance",
  pgProvider: "pulumi:providers:postgresql",
  pgRole: "postgresql:index/role:Role",
  pgDatabase: "postgresql:index/database:Database",
  pgExtension: "postgresql:index/extension:Extension",
  pgGrant: "postgresql:index/grant:Grant",
  bundle: "pulumi-nodejs:dynamic/pgkit:SqlBundle",
  kmsKey: "aws:kms/key:Key",
  role: "aws:iam/role:Role",
  iamPolicy: "aws:iam/policy:Policy",
  topic: "aws:sns/topic:Topic",
  topicPolicy: "aws:sns/topicPolicy:TopicPolicy",
  eventSubscription: "aws:rds/eventSubscription:EventSubscription",
  eventRule: "aws:cloudwatch/eventRule:EventRule",
  eventTarget: "aws:cloudwatch/eventTarget:EventTarget",
  metricFilter: "aws:cloudwatch/logMetricFilter:LogMetricFilter",
  pullThrough: "aws:ecr/pullThroughCacheRule:PullThroughCacheRule",
} as const;

let bundle: { checksum: string; files: string[] };

/**
 * Phase 2 of a deployment (docs/pulumi.md, "Deploying"): the SSM tunnel is open and the database objects are
 * managed. The committed stack files are phase 1 (manageDatabaseObjects off).
 */
const PHASE2: RawConfig = { manageDatabaseObjects: "true" };

async function build(stack: string, overrides: RawConfig = {}, mockOptions: MockOptions = {}): Promise<Built> {
  const recorded: Recorded[] = [];
  await pulumi.runtime.setMocks(createMocks(recorded, mockOptions), "pgkit", stack, false);
  const cfg = parseConfig({ ...rawPgkitConfig(stack), ...overrides });
  const outputs = await resolveOutputs(
    createStack(cfg, {
      repoRoot,
      sqlDir: join(repoRoot, "sql"),
      bundle,
      localAdminPassword: () => `${MOCK_PASSWORD_PREFIX}local-admin`,
      rdsCaBundle: () => readFileSync(join(repoRoot, FAKE_RDS_CA_BUNDLE), "utf8"),
    }),
  );
  await settle(recorded);
  const of = (type: string) => recorded.filter((r) => r.type === type);
  const one = (type: string, name: string) => {
    const r = recorded.find((x) => x.type === type && x.name === name);
    if (!r) throw new Error(`no ${type} named ${name}; have ${of(type).map((x) => x.name).join(", ")}`);
    return r;
  };
  return { recorded, outputs, of, one };
}

beforeAll(async () => {
  const files = await loadMigrations(join(repoRoot, "sql"));
  bundle = { checksum: bundleChecksum(files), files: files.map((f) => f.name) };
});

const props = <T = Record<string, unknown>>(r: Recorded, key: string): T => r.inputs[key] as T;

interface Container {
  image: string;
  healthCheck?: { command: string[]; interval: number; retries: number };
  environment: { name: string; value: string }[];
  secrets: { name: string; valueFrom: string }[];
}

function poolerContainer(s: Built): { container: Container; ini: string } {
  const [container] = JSON.parse(String(s.of(T.task)[0].inputs.containerDefinitions)) as Container[];
  return { container, ini: container.environment.find((e) => e.name === "PGBOUNCER_INI")?.value ?? "" };
}

/** What the mocked provider answered for a resource (ids, ARNs, version ids). */
function outputsOf(r: Recorded): Record<string, unknown> {
  return mockOutputs(r.type, r.name, r.inputs);
}

/** Login role name -> plaintext password, from the Secrets Manager secret versions the program writes. */
function loginPasswords(s: Built): Record<string, string> {
  return Object.fromEntries(
    s.of(T.secretVersion)
      .map((v) => JSON.parse(String(v.inputs.secretString)) as { username?: string; password?: string })
      .filter((j) => j.username && j.password)
      .map((j) => [j.username, j.password]),
  );
}

/** A PostgreSQL SCRAM-SHA-256 verifier (4096 iterations, 16-byte salt) of exactly this password, not containing it. */
function expectVerifierOf(verifier: string, password: string | undefined): void {
  const m = /^SCRAM-SHA-256\$4096:([A-Za-z0-9+/]{22}==)\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/.exec(verifier);
  expect(m, verifier).not.toBeNull();
  expect(password, "a password for the role").toMatch(new RegExp(`^${MOCK_PASSWORD_PREFIX}`));
  expect(verifier).toBe(scramVerifier(String(password), 4096, Buffer.from(String(m?.[1]), "base64")));
  expect(verifier).not.toContain(String(password));
}

describe.each([
  { stack: "dev", replicas: 0, retention: 7, tasks: 2, prod: false },
  { stack: "prod", replicas: 1, retention: 14, tasks: 3, prod: true },
])("AWS stack $stack", ({ stack, replicas, retention, tasks, prod }) => {
  let s: Built;
  beforeAll(async () => {
    s = await build(stack, PHASE2);
  });

  it("encrypts everything at rest with the customer-managed key", () => {
    const keyArn = "arn:aws:mock:eu-west-1:123456789012:kms/key/pgkit-key";
    for (const db of s.of(T.rds)) expect([db.name, db.inputs.storageEncrypted, db.inputs.kmsKeyId]).toEqual([db.name, true, keyArn]);
    expect(s.of(T.rds)).toHaveLength(1 + replicas);
    const sse = s.of(T.sse);
    expect(sse).toHaveLength(1);
    expect(props<{ applyServerSideEncryptionByDefault: Record<string, string> }[]>(sse[0], "rules")[0].applyServerSideEncryptionByDefault).toEqual({ sseAlgorithm: "aws:kms", kmsMasterKeyId: keyArn });
    for (const v of s.of(T.vault).filter((x) => !x.name.includes("copy"))) expect(v.inputs.kmsKeyArn).toBe(keyArn);
    for (const sec of s.of(T.secret)) expect(sec.inputs.kmsKeyId).toBe(keyArn);
    for (const lg of s.of(T.logGroup)) expect(lg.inputs.kmsKeyId).toBe(keyArn);
    const primary = s.one(T.rds, "pgkit-primary");
    expect([primary.inputs.masterUserSecretKmsKeyId, primary.inputs.performanceInsightsKmsKeyId]).toEqual([keyArn, keyArn]);
    for (const ec2 of s.of(T.ec2)) expect(props<{ encrypted: boolean }>(ec2, "rootBlockDevice").encrypted).toBe(true);
  });

  it("exposes nothing publicly", () => {
    for (const db of s.of(T.rds)) expect(db.inputs.publiclyAccessible).toBe(false);
    for (const lb of s.of(T.lb)) expect(lb.inputs.internal).toBe(true);
    expect(props<{ assignPublicIp: boolean }>(s.of(T.service)[0], "networkConfiguration").assignPublicIp).toBe(false);
    for (const ec2 of s.of(T.ec2)) expect(ec2.inputs.associatePublicIpAddress).toBe(false);
    for (const subnet of s.of(T.subnet)) expect(subnet.inputs.mapPublicIpOnLaunch).toBe(false);
    const pab = s.of(T.pab);
    expect(pab).toHaveLength(1);
    expect(["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"].map((k) => pab[0].inputs[k])).toEqual([true, true, true, true]);
    const openIngress = [
      ...s.of(T.sg).flatMap((g) => ((g.inputs.ingress as { cidrBlocks?: string[] }[] | undefined) ?? []).flatMap((r) => r.cidrBlocks ?? [])),
      ...s.of(T.ingress).map((r) => r.inputs.cidrIpv4),
    ].filter((c) => c === "0.0.0.0/0");
    expect(openIngress).toEqual([]);
  });

  it(`keeps point-in-time recovery for ${retention} days and schedules daily/weekly/monthly backups to the vault`, () => {
    const primary = s.one(T.rds, "pgkit-primary");
    expect(primary.inputs.backupRetentionPeriod).toBe(retention);
    const rules = props<{ ruleName: string; targetVaultName: string; lifecycle: { deleteAfter: number }; copyActions?: { destinationVaultArn: string }[] }[]>(s.of(T.plan)[0], "rules");
    expect(rules.map((r) => r.ruleName)).toEqual(["daily", "weekly", "monthly"]);
    expect(new Set(rules.map((r) => r.targetVaultName))).toEqual(new Set([`pgkit-${stack}`]));
    expect(rules.map((r) => r.lifecycle.deleteAfter)).toEqual([35, 90, 365]);
    expect(props<string[]>(s.of(T.selection)[0], "resources")).toEqual(["arn:aws:mock:eu-west-1:123456789012:rds/instance/pgkit-primary"]);
    // prod copies the monthly snapshots to a vault in another region
    const copy = rules[2].copyActions ?? [];
    expect(copy.length).toBe(prod ? 1 : 0);
    if (prod) expect(s.one(T.vault, "pgkit-backups-copy-vault").inputs.region).toBe("eu-central-1");
  });

  it("locks every vault (governance by default, retention bounds covering the plan) and denies deleting recovery points", () => {
    const vaults = s.of(T.vault);
    expect(vaults).toHaveLength(prod ? 2 : 1);
    for (const v of vaults) {
      const lock = s.one(T.vaultLock, `${v.name}-lock`).inputs;
      expect([lock.backupVaultName, lock.minRetentionDays, lock.maxRetentionDays, lock.changeableForDays, lock.region]).toEqual([v.inputs.name, 35, 365, undefined, v.inputs.region]);
      const policy = JSON.parse(String(s.one(T.vaultPolicy, `${v.name}-policy`).inputs.policy)) as { Statement: { Effect: string; Principal: unknown; Action: string[] }[] };
      expect(s.one(T.vaultPolicy, `${v.name}-policy`).inputs.backupVaultName).toBe(v.inputs.name);
      expect(policy.Statement).toEqual([expect.objectContaining({ Effect: "Deny", Principal: { AWS: "*" }, Action: expect.arrayContaining(["backup:DeleteRecoveryPoint"]) })]);
    }
  });

  it("keeps logical dumps versioned with a lifecycle to cold storage", () => {
    expect(props<{ status: string }>(s.of(T.versioning)[0], "versioningConfiguration").status).toBe("Enabled");
    const rule = props<{ transitions: { storageClass: string; days: number }[]; expiration: { days: number } }[]>(s.of(T.lifecycle)[0], "rules")[0];
    expect([rule.transitions[0].storageClass, rule.transitions[0].days, rule.expiration.days]).toEqual(["GLACIER_IR", 30, 365]);
  });

  it("locks each new dump version (S3 Object Lock, governance, 30 days) on the versioned bucket", () => {
    const lock = s.one(T.objectLock, "pgkit-backups-dumps").inputs;
    expect([lock.bucket, lock.objectLockEnabled, lock.rule]).toEqual(["pgkit-backups-dumps-id", "Enabled", { defaultRetention: { mode: "GOVERNANCE", days: 30 } }]);
  });

  it("removes expired delete markers in a rule of their own (S3 refuses ExpiredObjectDeleteMarker next to Days)", () => {
    const rules = props<{ id: string; status: string; expiration?: { days?: number; expiredObjectDeleteMarker?: boolean } }[]>(s.of(T.lifecycle)[0], "rules");
    const markers = rules.filter((r) => r.expiration?.expiredObjectDeleteMarker === true);
    expect(markers.map((r) => [r.status, r.expiration])).toEqual([["Enabled", { expiredObjectDeleteMarker: true }]]);
    for (const r of rules) expect(r.expiration?.days !== undefined && r.expiration?.expiredObjectDeleteMarker !== undefined, r.id).toBe(false);
  });

  it("admits database traffic only from the pooler tasks and the bastion", () => {
    const dbSg = "pgkit-db-id";
    expect(s.one(T.rds, "pgkit-primary").inputs.vpcSecurityGroupIds).toEqual([dbSg]);
    expect(s.one(T.sg, "pgkit-db").inputs.ingress ?? []).toEqual([]);
    const rules = s.of(T.ingress).filter((r) => r.inputs.securityGroupId === dbSg);
    expect(rules.map((r) => [r.inputs.referencedSecurityGroupId ?? r.inputs.cidrIpv4, r.inputs.fromPort, r.inputs.toPort]).sort()).toEqual([
      ["pgkit-bastion-sg-id", 5432, 5432],
      ["pgkit-pooler-tasks-id", 5432, 5432],
    ]);
    // the pooler tasks themselves only accept the NLB
    const taskIngress = s.one(T.sg, "pgkit-pooler-tasks").inputs.ingress as { securityGroups: string[] }[];
    expect(taskIngress.map((r) => r.securityGroups)).toEqual([["pgkit-pooler-nlb-id"]]);
  });

  it(`runs ${tasks} PgBouncer tasks spread over private subnets in different AZs`, () => {
    const service = s.of(T.service)[0];
    expect(service.inputs.desiredCount).toBe(tasks);
    expect(service.inputs.availabilityZoneRebalancing).toBe("ENABLED");
    const subnets = props<{ subnets: string[] }>(service, "networkConfiguration").subnets;
    if (stack === "prod") {
      // existing VPC: the configured private subnets, one per AZ
      expect(subnets).toEqual(JSON.parse(rawPgkitConfig("prod").privateSubnetIds));
    } else {
      const azs = subnets.map((id) => s.of(T.subnet).find((x) => `${x.name}-id` === id)?.inputs.availabilityZone);
      expect(new Set(azs).size).toBe(subnets.length);
      expect(subnets.length).toBeGreaterThanOrEqual(2);
    }
  });

  it("pins the PgBouncer image by digest and configures transaction pooling, with no user in the server entries", () => {
    const { container, ini } = poolerContainer(s);
    expect(container.image).toMatch(/^edoburu\/pgbouncer:v1\.24\.1-p1@sha256:[0-9a-f]{64}$/);
    expect(ini).toContain("pool_mode = transaction");
    expect(ini).toContain("max_prepared_statements = 200");
    // No reset between clients by default: the context and keys are bound to their transaction (sql/0800, 0840).
    expect(ini).toContain("server_reset_query_always = 0");
    // SCRAM pass-through needs database entries without user= (pgbouncer doc/config.md, auth_file limitations)
    expect(ini).toContain("pgkit = host=pgkit-primary.abc123.eu-west-1.rds.amazonaws.com port=5432 dbname=pgkit\n");
    expect(ini).not.toMatch(/^\w+ = .*\buser=/m);
  });

  it("authenticates from an auth_file, with no auth_user, auth_query or lookup function", () => {
    const { ini } = poolerContainer(s);
    expect(ini).toContain("auth_type = scram-sha-256");
    expect(ini).toContain("auth_file = /tmp/pgbouncer/userlist.txt");
    expect(ini).not.toMatch(/auth_user|auth_query|auth_dbname|user_lookup|pg_shadow/);
  });

  it("verifies RDS: verify-full against the region's RDS CA certificates, shipped in the task's environment", () => {
    const { container, ini } = poolerContainer(s);
    expect(ini).toContain("server_tls_sslmode = verify-full\nserver_tls_ca_file = /tmp/pgbouncer/rds-ca.pem\n");
    expect(ini).not.toMatch(/server_tls_sslmode = (disable|allow|prefer|require|verify-ca)\b/);
    const pem = container.environment.find((e) => e.name === "PGBOUNCER_SERVER_CA")?.value ?? "";
    const subjects = (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((c) => /CN=([^\n]+)/.exec(new X509Certificate(c).subject)?.[1]);
    // eu-west-1 (the mocked region) only: not us-east-1, eu-central-1 or the region-less 2019 root
    expect(subjects).toEqual(["Amazon RDS eu-west-1 Root CA RSA2048 G1", "Amazon RDS eu-west-1 Root CA ECC384 G1"]);
    expect(s.one(T.rds, "pgkit-primary").inputs.caCertIdentifier).toBe("rds-ca-rsa2048-g1");
    const params = Object.fromEntries(props<{ name: string; value: string }[]>(s.of(T.params)[0], "parameters").map((p) => [p.name, p.value]));
    expect(params["rds.force_ssl"]).toBe("1");
  });

  it("requires TLS from clients, with a certificate for the NLB's name signed by the stack's own CA", () => {
    const { container, ini } = poolerContainer(s);
    expect(ini).toContain(
      "client_tls_sslmode = require\nclient_tls_cert_file = /tmp/pgbouncer/client-tls.crt\nclient_tls_key_file = /tmp/pgbouncer/client-tls.key\nclient_tls_protocols = secure\n",
    );
    // the certificate is public (environment), its key comes from the pooler's secret
    expect(container.environment.find((e) => e.name === "PGBOUNCER_CLIENT_TLS_CERT")?.value).toBe(mockPem("CERTIFICATE", "pgkit-pooler-server"));
    const { tlsKey } = JSON.parse(String(s.one(T.secretVersion, "pgkit-pooler-secret").inputs.secretString)) as { tlsKey: string };
    expect(tlsKey).toBe(mockPem("EC PRIVATE KEY", "pgkit-pooler-server-key"));
    // ECDSA P-256 keys; a CA certificate; a server certificate for the NLB's DNS name, signed by that CA
    for (const k of s.of(T.tlsKey)) expect([k.inputs.algorithm, k.inputs.ecdsaCurve]).toEqual(["ECDSA", "P256"]);
    expect(s.one(T.tlsCa, "pgkit-pooler-ca").inputs).toMatchObject({ isCaCertificate: true, privateKeyPem: mockPem("EC PRIVATE KEY", "pgkit-pooler-ca-key") });
    expect(s.one(T.tlsCsr, "pgkit-pooler-server").inputs).toMatchObject({ dnsNames: ["pgkit-pooler-nlb-0123.elb.eu-west-1.amazonaws.com"], privateKeyPem: tlsKey });
    const cert = s.one(T.tlsCert, "pgkit-pooler-server").inputs;
    expect(cert).toMatchObject({ caCertPem: mockPem("CERTIFICATE", "pgkit-pooler-ca"), caPrivateKeyPem: mockPem("EC PRIVATE KEY", "pgkit-pooler-ca-key") });
    expect(cert.allowedUses).toContain("server_auth");
    expect(Number(cert.earlyRenewalHours)).toBeGreaterThan(0);
    // clients get the CA certificate (public) as a stack output; no private key is ever an output
    expect(s.outputs.poolerCaCertPem).toBe(mockPem("CERTIFICATE", "pgkit-pooler-ca"));
    expect(JSON.stringify(s.outputs)).not.toContain("PRIVATE KEY");
  });

  it("hands the auth_file to the task only as an ECS secret from the pooler's Secrets Manager secret, pinned to its version", () => {
    const { container } = poolerContainer(s);
    const secret = s.one(T.secret, "pgkit-pooler-secret");
    const version = s.one(T.secretVersion, "pgkit-pooler-secret");
    expect(secret.inputs).toMatchObject({ namePrefix: `pgkit/${stack}/pooler-`, kmsKeyId: "arn:aws:mock:eu-west-1:123456789012:kms/key/pgkit-key" });
    const versionId = String(outputsOf(version).versionId);
    const arn = "arn:aws:mock:eu-west-1:123456789012:secretsmanager/secret/pgkit-pooler-secret";
    expect(container.secrets).toEqual([
      { name: "PGBOUNCER_AUTH_FILE", valueFrom: `${arn}:authFile::${versionId}` },
      { name: "PGBOUNCER_CLIENT_TLS_KEY", valueFrom: `${arn}:tlsKey::${versionId}` },
      { name: "PGBOUNCER_HEALTH_PGPASS", valueFrom: `${arn}:healthPgpass::${versionId}` },
    ]);
    // no password, verifier or the file itself anywhere in the task definition
    const text = JSON.stringify(s.of(T.task)[0].inputs);
    expect(text).not.toContain(MOCK_PASSWORD_PREFIX);
    expect(text).not.toContain("SCRAM-SHA-256$");
    expect(text).not.toContain("PRIVATE KEY");
    expect(container.environment.map((e) => e.name).filter((n) => /PASSWORD|AUTH/.test(n))).toEqual([]);
    // the task can read this secret and no other
    const policy = JSON.parse(String(s.one(T.rolePolicy, "pgkit-pooler-exec-secret").inputs.policy)) as { Statement: { Action: string[]; Resource: string[] }[] };
    expect(policy.Statement.find((st) => st.Action.includes("secretsmanager:GetSecretValue"))?.Resource).toEqual([String(outputsOf(secret).arn)]);
  });

  it("tells pooled logins to connect to the pooler by the name its certificate carries, the others to RDS", () => {
    const hosts = Object.fromEntries(
      s.of(T.secretVersion)
        .map((v) => JSON.parse(String(v.inputs.secretString)) as { username?: string; host?: string; port?: number })
        .filter((j) => j.username)
        .map((j) => [j.username, `${j.host}:${j.port}`]),
    );
    const pooler = `${String(props<string[]>(s.one(T.tlsCsr, "pgkit-pooler-server"), "dnsNames")[0])}:6432`;
    const rds = "pgkit-primary.abc123.eu-west-1.rds.amazonaws.com:5432";
    expect(hosts).toEqual({
      pgkit_app_login: pooler,
      pgkit_worker_login: pooler,
      pgkit_readonly_login: rds,
      pgkit_maintenance_login: rds,
      pgkit_migrator_login: rds,
    });
  });

  it("puts the very verifiers the login roles were created with into the auth_file, for the pooled logins only", () => {
    const version = s.one(T.secretVersion, "pgkit-pooler-secret");
    expect(version.secretKeys).toContain("secretString");
    const { authFile } = JSON.parse(String(version.inputs.secretString)) as { authFile: string };
    const roles = Object.fromEntries(s.of(T.pgRole).map((r) => [r.inputs.name, r.inputs.password]));
    const [logins, health] = [authFile.split("\n").slice(0, 2).join("\n"), authFile.split("\n")[2]];
    expect(`${logins}\n`).toBe(`"pgkit_app_login" "${String(roles.pgkit_app_login)}"\n"pgkit_worker_login" "${String(roles.pgkit_worker_login)}"\n`);
    // the third and last entry is the health check's own login, which exists only in PgBouncer
    expect(health).toMatch(/^"pgkit_pooler_health" "SCRAM-SHA-256\$4096:/);
    expect(authFile.trim().split("\n")).toHaveLength(3);
    expect(Object.keys(roles)).not.toContain("pgkit_pooler_health");
    const passwords = loginPasswords(s);
    for (const line of logins.trim().split("\n")) {
      const [, name, verifier] = /^"([^"]+)" "([^"]+)"$/.exec(line) ?? [];
      expectVerifierOf(verifier, passwords[name]);
    }
  });

  it("keeps every secret a Pulumi secret and never puts one in a stack output", () => {
    const versions = s.of(T.secretVersion);
    expect(versions.map((v) => v.secretKeys.includes("secretString"))).toEqual(versions.map(() => true));
    expect(versions).toHaveLength(7); // five logins, the pooler's auth_file and the request-context keys
    const roles = s.of(T.pgRole).filter((r) => r.inputs.password !== undefined);
    expect(roles.length).toBe(5);
    for (const r of roles) expect(r.secretKeys).toContain("password");
    expect(s.of(T.pgProvider)[0].secretKeys).toContain("password");
    expect(s.of(T.bundle)[0].secretKeys).toContain("connection");
    const text = JSON.stringify(s.outputs);
    expect(text).not.toContain(MOCK_PASSWORD_PREFIX);
    expect(Object.keys(s.outputs.loginSecretArns as Record<string, string>).sort()).toEqual(["app", "maintenance", "migrator", "readonly", "worker"]);
    expect(s.outputs.masterSecretArn).toMatch(/^arn:aws:secretsmanager:/);
  });

  it("creates every login role with a SCRAM verifier of its password (a Pulumi secret), never the password itself", () => {
    const passwords = loginPasswords(s);
    const roles = s.of(T.pgRole).filter((r) => r.inputs.password !== undefined);
    expect(roles.length).toBe(Object.keys(passwords).length);
    for (const r of roles) {
      const name = String(r.inputs.name);
      expect(r.secretKeys).toContain("password");
      expectVerifierOf(String(r.inputs.password), passwords[name]);
    }
    const salts = roles.map((r) => String(r.inputs.password).split("$")[1]);
    expect(new Set(salts).size).toBe(salts.length); // a salt of its own per role
  });

  it("alarms on CPU, storage, memory, connections, disk queue, replica lag and PgBouncer health, to the SNS topic", () => {
    const alarms = s.of(T.alarm);
    const names = alarms.map((a) => a.name.replace("pgkit-monitoring-", "")).sort();
    const expected = ["connections", "cpu", "disk-queue", "free-storage", "freeable-memory", "max-used-transaction-ids", "oldest-replication-slot-lag", "pooler-healthy-targets", "pooler-running-tasks", "scheduled-job-failures", "transaction-logs-disk", "vector-index-backlog", ...Array.from({ length: replicas }, (_, i) => `replica-lag-${i}`)].sort();
    expect(names).toEqual(expected);
    for (const a of alarms) expect(a.inputs.alarmActions).toEqual(["arn:aws:mock:eu-west-1:123456789012:sns/topic/pgkit-monitoring-alerts"]);
    const metrics = Object.fromEntries(alarms.map((a) => [a.name.replace("pgkit-monitoring-", ""), a.inputs.metricName]));
    expect([metrics.cpu, metrics["free-storage"], metrics["freeable-memory"], metrics.connections, metrics["disk-queue"], metrics["pooler-healthy-targets"]]).toEqual([
      "CPUUtilization", "FreeStorageSpace", "FreeableMemory", "DatabaseConnections", "DiskQueueDepth", "HealthyHostCount",
    ]);
    expect(s.of(T.dashboard)).toHaveLength(1);
  });

  it("alarms on WAL on disk, replication slot lag, transaction ID age, and free storage relative to the autoscaling ceiling", () => {
    const a = (id: string) => s.one(T.alarm, `pgkit-monitoring-${id}`).inputs;
    const GiB = 1024 ** 3;
    const [allocated, max] = prod ? [200, 1000] : [50, 200];
    expect([a("free-storage").metricName, a("free-storage").comparisonOperator, a("free-storage").threshold]).toEqual(["FreeStorageSpace", "LessThanThreshold", max * 0.1 * GiB]);
    expect([a("transaction-logs-disk").metricName, a("transaction-logs-disk").threshold]).toEqual(["TransactionLogsDiskUsage", allocated * 0.1 * GiB]);
    expect([a("oldest-replication-slot-lag").metricName, a("oldest-replication-slot-lag").treatMissingData]).toEqual(["OldestReplicationSlotLag", "notBreaching"]);
    expect([a("max-used-transaction-ids").metricName, a("max-used-transaction-ids").threshold]).toEqual(["MaximumUsedTransactionIDs", 1_000_000_000]);
    for (const id of ["transaction-logs-disk", "oldest-replication-slot-lag", "max-used-transaction-ids"]) {
      expect(a(id).dimensions).toEqual({ DBInstanceIdentifier: `pgkit-${stack}` });
    }
  });

  it("sets the parameter group the SQL bundles and operations need", () => {
    const pg = s.of(T.params)[0];
    expect(pg.inputs.family).toBe("postgres16");
    const values = Object.fromEntries(props<{ name: string; value: string }[]>(pg, "parameters").map((p) => [p.name, p.value]));
    expect({
      shared: values.shared_preload_libraries,
      forceSsl: values["rds.force_ssl"],
      slow: values.log_min_duration_statement,
      cron: values["cron.database_name"],
      scram: values.password_encryption,
    }).toEqual({ shared: "pg_stat_statements,pg_cron", forceSsl: "1", slow: "500", cron: "pgkit", scram: "scram-sha-256" });
    expect(s.one(T.rds, "pgkit-primary").inputs.parameterGroupName).toBe("pgkit-params");
  });

  it("keeps bind parameters out of the RDS logs (statements and errors)", () => {
    const params = props<{ name: string; value: string; applyMethod: string }[]>(s.of(T.params)[0], "parameters");
    const logging = params.filter((p) => p.name.startsWith("log_parameter_max_length") || p.name === "log_statement");
    expect(logging.map((p) => [p.name, p.value, p.applyMethod]).sort()).toEqual([
      ["log_parameter_max_length", "0", "immediate"],
      ["log_parameter_max_length_on_error", "0", "immediate"],
      ["log_statement", "ddl", "immediate"],
    ]);
  });

  it("runs Performance Insights, enhanced monitoring, IAM auth and log exports", () => {
    for (const db of s.of(T.rds)) {
      expect([db.inputs.performanceInsightsEnabled, (db.inputs.monitoringInterval as number) > 0, db.inputs.iamDatabaseAuthenticationEnabled, db.inputs.enabledCloudwatchLogsExports]).toEqual([
        true, true, true, ["postgresql", "upgrade"],
      ]);
    }
    expect(s.one(T.rds, "pgkit-primary").inputs.manageMasterUserPassword).toBe(true);
    expect(s.one(T.rds, "pgkit-primary").inputs.storageType).toBe("gp3");
    expect((s.one(T.rds, "pgkit-primary").inputs.maxAllocatedStorage as number) > (s.one(T.rds, "pgkit-primary").inputs.allocatedStorage as number)).toBe(true);
  });

  it(prod ? "protects prod: deletion protection, final snapshot, Multi-AZ, replica" : "lets dev be torn down: no deletion protection, no final snapshot", () => {
    const p = s.one(T.rds, "pgkit-primary").inputs;
    if (prod) {
      // a suffix drawn once per stack (a RandomId in state), so a recreated stack's destroy does not clash
      // with the previous stack's final snapshot
      const suffix = String(outputsOf(s.one(T.randomId, "pgkit-final-snapshot")).hex);
      expect(suffix).toMatch(/^[0-9a-f]{8}$/);
      expect([p.deletionProtection, p.skipFinalSnapshot, p.finalSnapshotIdentifier, p.multiAz]).toEqual([true, false, `pgkit-prod-final-${suffix}`, true]);
      expect(s.one(T.rds, "pgkit-replica-0").inputs.replicateSourceDb).toBe("pgkit-prod");
    } else {
      expect([p.deletionProtection, p.skipFinalSnapshot, p.multiAz]).toEqual([false, true, false]);
    }
  });

  it("pre-creates every instance's log export groups (primary and replicas) with the stack's key and a retention", () => {
    const keyArn = "arn:aws:mock:eu-west-1:123456789012:kms/key/pgkit-key";
    const instances = s.of(T.rds).map((r) => String(r.inputs.identifier));
    expect(instances).toHaveLength(1 + replicas);
    const byName = new Map(s.of(T.logGroup).map((g) => [String(g.inputs.name), g.inputs]));
    for (const id of instances) {
      const exported = s.of(T.rds).find((r) => r.inputs.identifier === id)?.inputs.enabledCloudwatchLogsExports as string[];
      expect(exported).toEqual(["postgresql", "upgrade"]);
      for (const kind of exported) {
        expect(byName.get(`/aws/rds/instance/${id}/${kind}`), `${id}/${kind}`).toMatchObject({ kmsKeyId: keyArn, retentionInDays: prod ? 90 : 30 });
      }
    }
  });

  it("names every Secrets Manager secret by prefix, never a fixed name (a deleted secret holds its name through its recovery window)", () => {
    const secrets = s.of(T.secret);
    expect(secrets.length).toBeGreaterThan(1);
    for (const x of secrets) {
      expect([x.name, x.inputs.name]).toEqual([x.name, undefined]);
      expect(String(x.inputs.namePrefix)).toMatch(new RegExp(`^pgkit/${stack}/[a-z_-]+-$`));
    }
    expect(s.of(T.secret).map((x) => x.inputs.namePrefix).sort()).toEqual(
      [`pgkit/${stack}/pooler-`, `pgkit/${stack}/context-keys-`, ...["app", "worker", "readonly", "maintenance", "migrator"].map((k) => `pgkit/${stack}/pgkit_${k}_login-`)].sort(),
    );
  });

  it("creates the database with the instance (dbName = cron.database_name), so pg_cron's launcher finds it from the first boot", () => {
    const params = Object.fromEntries(props<{ name: string; value: string }[]>(s.of(T.params)[0], "parameters").map((p) => [p.name, p.value]));
    expect([s.one(T.rds, "pgkit-primary").inputs.dbName, params["cron.database_name"]]).toEqual(["pgkit", "pgkit"]);
    for (const r of s.of(T.rds).filter((x) => x.name !== "pgkit-primary")) expect(r.inputs.dbName, r.name).toBeUndefined(); // not allowed on a replica
    // and nothing creates it a second time in phase 2 (CREATE DATABASE would fail: it exists)
    expect(s.of(T.pgDatabase)).toEqual([]);
    expect(s.of(T.pgExtension).map((e) => e.inputs.database)).toEqual(["pgkit"]);
  });

  it("registers a user and a worker request-context key with the bundle and keeps them in Secrets Manager (sql/0930)", () => {
    const keys = s.of(T.bundle)[0].inputs.contextKeys as Array<{ kid: string; purpose: string; secret: string }>;
    expect(keys.map((k) => k.purpose)).toEqual(["user", "worker"]);
    for (const k of keys) {
      expect(k.kid).toMatch(new RegExp(`^${k.purpose}-[0-9a-f]{12}$`));
      expect(Buffer.from(k.secret, "base64url")).toHaveLength(32);
    }
    const secret = s.of(T.secret).find((x) => String(x.inputs.namePrefix).includes("/context-keys-"));
    expect(secret?.inputs.kmsKeyId).toBeDefined();
  });

  it("revokes PUBLIC's privileges on the maintenance databases postgres and template1 (issue 12 #6)", () => {
    expect(s.of(T.pgGrant).map((g) => [g.inputs.database, g.inputs.role, g.inputs.objectType, g.inputs.privileges])).toEqual([
      ["postgres", "public", "database", []],
      ["template1", "public", "database", []],
    ]);
  });

  it("creates pg_cron, login roles granted the bundle's group roles, and the SQL bundle with its checksum", () => {
    expect(s.of(T.pgExtension).map((e) => e.inputs.name)).toEqual(["pg_cron"]);
    const grants = Object.fromEntries(s.of(T.pgRole).map((r) => [r.inputs.name, r.inputs.roles]));
    expect(grants).toEqual({
      pgkit_app_login: ["pgkit_app"],
      pgkit_worker_login: ["pgkit_worker"],
      pgkit_readonly_login: ["pgkit_readonly"],
      pgkit_maintenance_login: ["pgkit_maintenance"],
      pgkit_migrator_login: ["pgkit_migrator"],
      pgkit_ops_iam: ["rds_iam", "pgkit_readonly"],
    });
    const b = s.of(T.bundle)[0].inputs;
    expect([b.checksum, b.files, b.dir]).toEqual([bundle.checksum, bundle.files, join(repoRoot, "sql")]);
    // through the SSM tunnel configured in the stack file, TLS verified against the RDS CA
    expect(s.of(T.pgProvider)[0].inputs).toMatchObject({ host: "127.0.0.1", port: "15432", sslmode: "verify-ca", sslrootcert: join(repoRoot, "certs/rds-global-bundle.pem"), superuser: "false" });
  });

  it("passes every rule of the policy pack", () => {
    const found: string[] = [];
    for (const r of s.recorded) {
      const args = { type: r.type, props: r.inputs, urn: r.name, name: r.name, opts: {}, stackTags: new Map() } as unknown as ResourceValidationArgs;
      for (const p of policies) {
        const v = p.validateResource;
        for (const fn of Array.isArray(v) ? v : v ? [v] : []) fn(args, (m) => found.push(`${p.name} ${r.type} ${r.name}: ${m}`));
      }
    }
    expect(s.recorded.length).toBeGreaterThan(50);
    expect(found).toEqual([]);
  });

  it("the pooler: pulumi up waits for a steady service, and the container health check logs in through PgBouncer", () => {
    expect(s.of(T.service)[0].inputs.waitForSteadyState).toBe(true);
    const { container, ini } = poolerContainer(s);
    expect(container.healthCheck?.command[0]).toBe("CMD-SHELL");
    expect(container.healthCheck?.command[1]).toBe(
      "PGPASSFILE='/tmp/pgbouncer/health.pgpass' psql -XAtq -d 'host=127.0.0.1 port=6432 dbname=pgbouncer user=pgkit_pooler_health sslmode=require connect_timeout=3' -c 'SHOW VERSION' > /dev/null",
    );
    expect(ini).toContain("stats_users = pgkit_pooler_health\n");
    expect(ini).not.toMatch(/^admin_users/m);
    // the password file comes from the pooler's secret: the health login's password, for the console database only
    const { healthPgpass, authFile } = JSON.parse(String(s.one(T.secretVersion, "pgkit-pooler-secret").inputs.secretString)) as { healthPgpass: string; authFile: string };
    const password = `${MOCK_PASSWORD_PREFIX}pgkit-pooler-health`;
    expect(healthPgpass).toBe(`*:*:pgbouncer:pgkit_pooler_health:${password}`);
    const verifier = /"pgkit_pooler_health" "([^"]+)"/.exec(authFile)?.[1] ?? "";
    expectVerifierOf(verifier, password);
    // pulled from Docker Hub by default
    expect(s.outputs.poolerImage).toBe(container.image);
    expect(s.of(T.pullThrough)).toEqual([]);
  });

  it("alarms on failed scheduled jobs: a metric filter on the primary's postgresql log group, matching ops.job_fail's line", () => {
    const filter = s.one(T.metricFilter, "pgkit-monitoring-job-failures").inputs as { logGroupName: string; pattern: string; metricTransformation: { namespace: string; name: string; value: string } };
    expect(filter).toMatchObject({
      logGroupName: `/aws/rds/instance/pgkit-${stack}/postgresql`,
      pattern: '"WARNING:" "pgkit job" "failed:"',
      metricTransformation: { namespace: `pgkit/${stack}`, name: "ScheduledJobFailures", value: "1" },
    });
    expect(s.one(T.alarm, "pgkit-monitoring-scheduled-job-failures").inputs).toMatchObject({
      namespace: `pgkit/${stack}`, metricName: "ScheduledJobFailures", statistic: "Sum", comparisonOperator: "GreaterThanOrEqualToThreshold", threshold: 1, treatMissingData: "notBreaching",
    });
  });

  it("alarms when new embeddings wait too long for the HNSW graph: a metric filter on the same log group, matching the index job's warning", () => {
    const filter = s.one(T.metricFilter, "pgkit-monitoring-vector-index-backlog").inputs as { logGroupName: string; pattern: string; metricTransformation: { namespace: string; name: string; value: string } };
    expect(filter).toMatchObject({
      logGroupName: `/aws/rds/instance/pgkit-${stack}/postgresql`,
      pattern: '"WARNING:" "pgkit vector index backlog:"',
      metricTransformation: { namespace: `pgkit/${stack}`, name: "VectorIndexBacklogWarnings", value: "1" },
    });
    expect(s.one(T.alarm, "pgkit-monitoring-vector-index-backlog").inputs).toMatchObject({
      namespace: `pgkit/${stack}`, metricName: "VectorIndexBacklogWarnings", statistic: "Sum", period: 300, comparisonOperator: "GreaterThanOrEqualToThreshold", threshold: 2, treatMissingData: "notBreaching",
    });
  });

  it("notifies RDS events of every instance and of the parameter group, and failed AWS Backup jobs, to the topic", () => {
    const topicArn = "arn:aws:mock:eu-west-1:123456789012:sns/topic/pgkit-monitoring-alerts";
    const instances = s.one(T.eventSubscription, "pgkit-monitoring-rds-instances").inputs;
    expect(instances).toMatchObject({ snsTopic: topicArn, sourceType: "db-instance", sourceIds: [`pgkit-${stack}`, ...Array.from({ length: replicas }, (_, i) => `pgkit-${stack}-replica-${i}`)] });
    expect(instances.eventCategories).toEqual(expect.arrayContaining(["failover", "failure", "low storage", "maintenance", "availability"]));
    expect(s.one(T.eventSubscription, "pgkit-monitoring-rds-parameters").inputs).toMatchObject({ snsTopic: topicArn, sourceType: "db-parameter-group", sourceIds: ["pgkit-params"], eventCategories: ["configuration change"] });
    const rule = s.one(T.eventRule, "pgkit-monitoring-backup-job-failed");
    expect(JSON.parse(String(rule.inputs.eventPattern))).toEqual({
      source: ["aws.backup"], "detail-type": ["Backup Job State Change", "Copy Job State Change"], detail: { state: ["FAILED", "ABORTED", "EXPIRED", "PARTIAL"] },
    });
    expect(s.one(T.eventTarget, "pgkit-monitoring-backup-job-failed").inputs).toMatchObject({ rule: "pgkit-monitoring-backup-job-failed", arn: topicArn });
    // the topic lets EventBridge publish for that rule only, and RDS for this account only
    const policy = JSON.parse(String(s.one(T.topicPolicy, "pgkit-monitoring-alerts").inputs.policy)) as { Statement: { Sid: string; Principal: unknown; Condition: unknown }[] };
    const bySid = Object.fromEntries(policy.Statement.map((st) => [st.Sid, st]));
    expect(bySid.BackupJobFailures).toMatchObject({ Principal: { Service: "events.amazonaws.com" }, Condition: { ArnEquals: { "aws:SourceArn": outputsOf(rule).arn } } });
    expect(bySid.RdsEvents).toMatchObject({ Principal: { Service: "events.rds.amazonaws.com" }, Condition: { StringEquals: { "aws:SourceAccount": "123456789012" } } });
    expect(bySid.AccountOwner).toMatchObject({ Condition: { StringEquals: { "AWS:SourceOwner": "123456789012" } } });
  });

  it("KMS key policy: log groups of this account and region only, service principals for this account, and EventBridge for the topic", () => {
    const policy = JSON.parse(String(s.one(T.kmsKey, "pgkit-key").inputs.policy)) as { Statement: { Sid: string; Principal: { Service?: unknown }; Condition?: unknown }[] };
    const bySid = Object.fromEntries(policy.Statement.map((st) => [st.Sid, st]));
    expect(bySid.CloudWatchLogs.Condition).toEqual({ ArnLike: { "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:eu-west-1:123456789012:log-group:*" } });
    expect(bySid.AlarmsAndRdsEventsToSns).toMatchObject({ Principal: { Service: ["cloudwatch.amazonaws.com", "events.rds.amazonaws.com"] }, Condition: { StringEquals: { "aws:SourceAccount": "123456789012" } } });
    expect(bySid.EventBridgeToSns.Principal).toEqual({ Service: "events.amazonaws.com" });
    // every statement for a service principal names a condition, except EventBridge's (see infra/database.ts)
    for (const st of policy.Statement.filter((x) => x.Principal.Service && x.Sid !== "EventBridgeToSns")) expect(st.Condition, st.Sid).toBeDefined();
  });

  it("enhanced monitoring's role trusts RDS only for this account's instances (confused deputy)", () => {
    const trust = JSON.parse(String(s.one(T.role, "pgkit-monitoring").inputs.assumeRolePolicy)) as { Statement: { Principal: unknown; Condition: unknown }[] };
    expect(trust.Statement).toEqual([{
      Effect: "Allow", Principal: { Service: "monitoring.rds.amazonaws.com" }, Action: "sts:AssumeRole",
      Condition: { StringEquals: { "aws:SourceAccount": "123456789012" }, ArnLike: { "aws:SourceArn": `arn:aws:rds:eu-west-1:123456789012:db:pgkit-${stack}*` } },
    }]);
  });

  it("IAM database login: an rds-db:connect policy for pgkit_ops_iam on the primary, and its user ARN as an output", () => {
    const userArn = "arn:aws:rds-db:eu-west-1:123456789012:dbuser:db-PGKITPRIMARY/pgkit_ops_iam";
    expect(s.outputs.iamDbUserArn).toBe(userArn);
    const policy = s.one(T.iamPolicy, "pgkit-iam-connect-pgkit_ops_iam");
    expect(JSON.parse(String(policy.inputs.policy))).toEqual({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "rds-db:connect", Resource: userArn }] });
    expect(s.outputs.iamConnectPolicyArn).toBe(outputsOf(policy).arn);
    expect(s.of(T.pgRole).find((r) => r.inputs.name === "pgkit_ops_iam")?.inputs.roles).toEqual(["rds_iam", "pgkit_readonly"]);
  });

  it("surfaces static parameters waiting for a reboot: their names and the command that shows pending-reboot", () => {
    expect(s.outputs.staticParameters).toEqual(["shared_preload_libraries", "cron.database_name", "pg_stat_statements.max", ...(prod ? ["max_connections"] : [])]);
    const ids = [`pgkit-${stack}`, ...Array.from({ length: replicas }, (_, i) => `pgkit-${stack}-replica-${i}`)];
    expect(s.outputs.pendingRebootCheck).toBe(ids.map((id) => `aws rds describe-db-instances --db-instance-identifier ${id} --query "DBInstances[0].DBParameterGroups[].ParameterApplyStatus" --output text`).join(" && "));
  });

  it("Database Insights: standard by default on every instance", () => {
    for (const r of s.of(T.rds)) expect(r.inputs.databaseInsightsMode, r.name).toBe("standard");
  });

  it("admits clients to the pooler by security group (its own client group, exported), never by the VPC's CIDR", () => {
    const nlbSg = s.one(T.sg, "pgkit-pooler-nlb").inputs as { ingress: { cidrBlocks?: string[]; securityGroups?: string[]; fromPort: number }[] };
    expect(nlbSg.ingress.map((r) => [r.fromPort, r.cidrBlocks ?? [], r.securityGroups])).toEqual([[6432, [], ["pgkit-pooler-clients-id"]]]);
    expect(s.one(T.sg, "pgkit-pooler-clients").inputs.ingress ?? []).toEqual([]);
    expect(s.outputs.poolerClientSecurityGroupId).toBe("pgkit-pooler-clients-id");
  });

  it("exports endpoints, secret ARNs, vault and bucket names", () => {
    expect(s.outputs).toMatchObject({
      directEndpoint: "pgkit-primary.abc123.eu-west-1.rds.amazonaws.com:5432",
      pooledEndpoint: "pgkit-pooler-nlb-0123.elb.eu-west-1.amazonaws.com:6432",
      backupVaultName: `pgkit-${stack}`,
      dumpBucketName: "pgkit-backups-dumps-0123",
      sqlBundleChecksum: bundle.checksum,
    });
  });
});

describe("AWS stack options", () => {
  it("rotating a pooled login's password changes its role's verifier and the pooler's auth_file together, and rolls the tasks", async () => {
    const before = await build("dev", PHASE2);
    const after = await build("dev", PHASE2, { rotatedPasswords: ["pgkit-logins-app"] });
    const verifierOf = (b: Built, role: string) => String(b.of(T.pgRole).find((r) => r.inputs.name === role)?.inputs.password);
    const authFileOf = (b: Built) => (JSON.parse(String(b.one(T.secretVersion, "pgkit-pooler-secret").inputs.secretString)) as { authFile: string }).authFile;
    // the rotated login: a new password, a new salt, a new verifier, in the role and in the auth_file
    expect(verifierOf(after, "pgkit_app_login")).not.toBe(verifierOf(before, "pgkit_app_login"));
    expect(verifierOf(after, "pgkit_app_login").split("$")[1]).not.toBe(verifierOf(before, "pgkit_app_login").split("$")[1]);
    expectVerifierOf(verifierOf(after, "pgkit_app_login"), loginPasswords(after).pgkit_app_login);
    expect(authFileOf(after)).toContain(`"pgkit_app_login" "${verifierOf(after, "pgkit_app_login")}"`);
    // the other login is untouched
    expect(verifierOf(after, "pgkit_worker_login")).toBe(verifierOf(before, "pgkit_worker_login"));
    expect(authFileOf(after)).toContain(`"pgkit_worker_login" "${verifierOf(before, "pgkit_worker_login")}"`);
    // a new secret version id in the task definition = a new revision, which the ECS service deploys
    const valueFrom = (b: Built) => poolerContainer(b).container.secrets.map((x) => x.valueFrom);
    expect(valueFrom(after)).not.toEqual(valueFrom(before));
  });

  it("computes the same verifiers on every update: the salt is a resource in state, not drawn again each run", async () => {
    const verifiers = (b: Built) => b.of(T.pgRole).filter((r) => r.inputs.password !== undefined).map((r) => [r.inputs.name, r.inputs.password]);
    const [first, second] = [await build("dev", PHASE2), await build("dev", PHASE2)];
    expect(verifiers(first).length).toBeGreaterThan(0);
    expect(verifiers(second)).toEqual(verifiers(first));
  });

  it("an admin CIDR adds exactly one CIDR rule to the database security group", async () => {
    const s = await build("dev", { adminCidr: "10.99.0.0/24", bastion: "false" });
    const rules = s.of(T.ingress).filter((r) => r.inputs.securityGroupId === "pgkit-db-id");
    expect(rules.map((r) => r.inputs.referencedSecurityGroupId ?? r.inputs.cidrIpv4).sort()).toEqual(["10.99.0.0/24", "pgkit-pooler-tasks-id"]);
  });

  it("dumpsObjectLockMode=compliance and dumpsObjectLockDays set the dump bucket's default retention", async () => {
    const s = await build("dev", { dumpsObjectLockMode: "compliance", dumpsObjectLockDays: "60" });
    expect(s.one(T.objectLock, "pgkit-backups-dumps").inputs.rule).toEqual({ defaultRetention: { mode: "COMPLIANCE", days: 60 } });
  });

  it("backupVaultLockMode=compliance makes the vault lock immutable after the shortest cooling-off (3 days)", async () => {
    const s = await build("dev", { backupVaultLockMode: "compliance" });
    expect(s.one(T.vaultLock, "pgkit-backups-vault-lock").inputs.changeableForDays).toBe(3);
  });

  it("pgkit:poolerClientSecurityGroupIds admits those groups to the pooler too", async () => {
    const s = await build("dev", { poolerClientSecurityGroupIds: '["sg-0123456789abcdef0","sg-0fedcba9876543210"]' });
    const nlbSg = s.one(T.sg, "pgkit-pooler-nlb").inputs as { ingress: { cidrBlocks?: string[]; securityGroups?: string[] }[] };
    expect(nlbSg.ingress.map((r) => [r.cidrBlocks ?? [], r.securityGroups])).toEqual([[[], ["pgkit-pooler-clients-id", "sg-0123456789abcdef0", "sg-0fedcba9876543210"]]]);
  });

  it("poolerPullThroughCache pulls the digest-pinned image through an ECR pull-through cache rule for Docker Hub", async () => {
    const credentialArn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-pullthroughcache/docker-hub-AbCdEf";
    const s = await build("dev", { poolerPullThroughCache: "true", poolerDockerHubCredentialArn: credentialArn });
    expect(s.one(T.pullThrough, "pgkit-pooler-docker-hub").inputs).toEqual({ ecrRepositoryPrefix: "docker-hub", upstreamRegistryUrl: "registry-1.docker.io", credentialArn });
    const { container } = poolerContainer(s);
    expect(container.image).toMatch(/^123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/docker-hub\/edoburu\/pgbouncer:v1\.24\.1-p1@sha256:[0-9a-f]{64}$/);
    const policy = JSON.parse(String(s.one(T.rolePolicy, "pgkit-pooler-exec-pull-through").inputs.policy)) as { Statement: { Action: string[]; Resource: string }[] };
    expect(policy.Statement).toEqual([{ Effect: "Allow", Action: ["ecr:CreateRepository", "ecr:BatchImportUpstreamImage"], Resource: "arn:aws:ecr:eu-west-1:123456789012:repository/docker-hub/*" }]);
  });

  it("pullThroughImage puts Docker Hub official images under library/", () => {
    expect(pullThroughImage("pgbouncer/pgbouncer:1.24.1@sha256:ab", "1", "eu-west-1")).toBe("1.dkr.ecr.eu-west-1.amazonaws.com/docker-hub/pgbouncer/pgbouncer:1.24.1@sha256:ab");
    expect(pullThroughImage("postgres:16@sha256:ab", "1", "eu-west-1")).toBe("1.dkr.ecr.eu-west-1.amazonaws.com/docker-hub/library/postgres:16@sha256:ab");
  });

  it("databaseInsightsMode=advanced (with 465 days of Performance Insights) reaches every instance", async () => {
    const s = await build("prod", { databaseInsightsMode: "advanced", performanceInsightsRetentionDays: "465" });
    for (const r of s.of(T.rds)) expect([r.inputs.databaseInsightsMode, r.inputs.performanceInsightsRetentionPeriod], r.name).toEqual(["advanced", 465]);
  });

  it("allowMajorVersionUpgrade=true reaches the instance (off by default)", async () => {
    expect((await build("dev")).one(T.rds, "pgkit-primary").inputs.allowMajorVersionUpgrade).toBe(false);
    expect((await build("dev", { allowMajorVersionUpgrade: "true" })).one(T.rds, "pgkit-primary").inputs.allowMajorVersionUpgrade).toBe(true);
  });

  it("poolerResetAfterTransaction=true makes PgBouncer run DISCARD ALL after every transaction", async () => {
    const s = await build("dev", { poolerResetAfterTransaction: "true" });
    const { ini } = poolerContainer(s);
    expect(ini).toContain("server_reset_query = DISCARD ALL");
    expect(ini).toContain("server_reset_query_always = 1");
  });

  // A first `pulumi up` creates RDS, which nothing can reach until the SSM tunnel is open: as committed, the
  // stack files must not register anything that connects to PostgreSQL (it would fail with connection refused).
  it.each([["dev", 1], ["prod", 2]] as const)("the committed Pulumi.%s.yaml builds the infrastructure without touching PostgreSQL", async (stack, instances) => {
    const s = await build(stack);
    expect([s.of(T.pgProvider).length, s.of(T.pgRole).length, s.of(T.pgDatabase).length, s.of(T.bundle).length, s.of(T.rds).length]).toEqual([0, 0, 0, 0, instances]);
  });
});

describe("local stack", () => {
  let s: Built;
  beforeAll(async () => {
    s = await build("local");
  });

  it("creates no AWS resource", () => {
    expect(s.recorded.filter((r) => r.type.startsWith("aws:") || r.type === "pulumi:providers:aws")).toEqual([]);
  });

  // Pulumi.local.yaml states npm start's default ports (src/config.ts).
  const { pgPort, bouncerPort } = DEFAULT_PORTS.local;

  it("points the database objects at the local stack from npm start, as its RDS-shaped admin (not a superuser)", () => {
    expect(s.of(T.pgProvider)[0].inputs).toMatchObject({ host: "127.0.0.1", port: String(pgPort), username: "pgkit_admin", sslmode: "disable", superuser: "false" });
    expect(s.of(T.pgProvider)[0].secretKeys).toContain("password");
    const b = s.of(T.bundle)[0];
    const conn = b.inputs.connection as { port: number; user: string; password: string };
    expect([b.inputs.checksum, conn.port, conn.user, conn.password, b.secretKeys]).toEqual([bundle.checksum, pgPort, "pgkit_admin", `${MOCK_PASSWORD_PREFIX}local-admin`, ["connection"]]);
  });

  it("creates its login roles with SCRAM verifiers too, never a password", () => {
    const roles = s.of(T.pgRole);
    expect(roles.length).toBeGreaterThan(0);
    for (const r of roles) {
      const key = String(r.inputs.name).replace(/^pgkit_/, "").replace(/_login$/, "");
      expect(r.secretKeys).toContain("password");
      expectVerifierOf(String(r.inputs.password), `${MOCK_PASSWORD_PREFIX}pgkit-logins-${key}`);
    }
  });

  it("leaves npm start's own pooled login roles (pgkit_app_login, pgkit_worker_login) alone", () => {
    expect(s.of(T.pgRole).map((r) => r.inputs.name).sort()).toEqual(["pgkit_maintenance_login", "pgkit_migrator_login", "pgkit_readonly_login"]);
    expect(s.of(T.pgDatabase)).toEqual([]);
  });

  it("outputs endpoints and role names, no secret value", () => {
    expect(s.outputs).toMatchObject({ target: "local", directEndpoint: `127.0.0.1:${pgPort}`, pooledEndpoint: `127.0.0.1:${bouncerPort}`, sqlBundleChecksum: bundle.checksum });
    expect(JSON.stringify(s.outputs)).not.toContain(MOCK_PASSWORD_PREFIX);
  });
});

describe("the service's read endpoint: the replicas behind the pooler (issue 19)", () => {
  it("with replicas, the pooler's read-only alias reaches every one of them and the stack outputs it as the read endpoint", async () => {
    const s = await build("prod", { ...PHASE2, readReplicas: "2" });
    expect(s.of(T.rds)).toHaveLength(3);
    const { ini } = poolerContainer(s);
    const alias = /^pgkit_readonly = host=(\S+) port=5432 dbname=pgkit$/m.exec(ini);
    expect(alias, ini).not.toBeNull();
    expect(alias![1].split(",")).toEqual(["pgkit-replica-0", "pgkit-replica-1"].map((n) => `${n}.abc123.eu-west-1.rds.amazonaws.com`));
    expect(ini).toMatch(/^pgkit = host=pgkit-primary\.\S+ port=5432 dbname=pgkit$/m);
    expect(s.outputs.readDatabaseName).toBe("pgkit_readonly");
    expect(s.outputs.readEndpoint).toBe(s.outputs.pooledEndpoint);
  });

  it("without a replica there is no alias, and the read endpoint is the primary's database", async () => {
    const s = await build("dev", PHASE2);
    expect(poolerContainer(s).ini).not.toMatch(/_readonly/);
    expect(s.outputs.readDatabaseName).toBe("pgkit");
  });
});
