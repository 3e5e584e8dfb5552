// The CrossGuard rules, called directly: a compliant and a non-compliant resource for each rule.
// Plus: the pack loads the way `pulumi preview --policy-pack policy` loads it (PulumiPolicy.yaml's
// nodeargs, require() of the folder) and starts serving.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { load } from "js-yaml";
import { describe, expect, it } from "vitest";
import { backupRetention, encryptionAtRest, noPublicAccess, policies, prodDeletionProtection, tlsRequired } from "../../policy/rules.js";
import { runInBackground } from "../../src/proc/run.js";
import { repoRoot } from "./support/mocks.js";

function violations(policy: ResourceValidationPolicy, type: string, props: Record<string, unknown>): string[] {
  const found: string[] = [];
  const args = { type, props, urn: `urn:pulumi:test::pgkit::${type}::r`, name: "r", opts: {}, stackTags: new Map() } as unknown as ResourceValidationArgs;
  const validate = policy.validateResource;
  for (const v of Array.isArray(validate) ? validate : validate ? [validate] : []) v(args, (message) => found.push(message));
  return found;
}

const RDS = "aws:rds/instance:Instance";
const goodRds = {
  storageEncrypted: true, kmsKeyId: "arn:kms", publiclyAccessible: false, backupRetentionPeriod: 7,
  deletionProtection: true, skipFinalSnapshot: false, parameterGroupName: "pgkit-params", tags: { environment: "prod" },
};

// [rule, resource type, compliant props, non-compliant props, expected message fragment]
const CASES: [ResourceValidationPolicy, string, Record<string, unknown>, Record<string, unknown>, RegExp][] = [
  [encryptionAtRest, RDS, goodRds, { ...goodRds, storageEncrypted: false }, /storageEncrypted/],
  [encryptionAtRest, RDS, goodRds, { ...goodRds, kmsKeyId: undefined }, /customer-managed KMS key/],
  [encryptionAtRest, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: "arn:kms" } }] },
    { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] }, /SSE-KMS/],
  [encryptionAtRest, "aws:backup/vault:Vault", { kmsKeyArn: "arn:kms" }, {}, /Backup vault/],
  [encryptionAtRest, "aws:secretsmanager/secret:Secret", { kmsKeyId: "arn:kms" }, {}, /Secrets Manager/],
  [encryptionAtRest, "aws:ec2/instance:Instance", { rootBlockDevice: { encrypted: true } }, { rootBlockDevice: {} }, /root volume/],
  [noPublicAccess, RDS, goodRds, { ...goodRds, publiclyAccessible: true }, /publicly accessible/],
  [noPublicAccess, "aws:lb/loadBalancer:LoadBalancer", { internal: true }, { internal: false }, /internal/],
  [noPublicAccess, "aws:ecs/service:Service", { networkConfiguration: { assignPublicIp: false } }, { networkConfiguration: { assignPublicIp: true } }, /public IPs/],
  [noPublicAccess, "aws:ec2/instance:Instance", { associatePublicIpAddress: false }, { associatePublicIpAddress: true }, /public IP/],
  [noPublicAccess, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
    { blockPublicAcls: true, blockPublicPolicy: false, ignorePublicAcls: true, restrictPublicBuckets: true }, /blockPublicPolicy/],
  [noPublicAccess, "aws:ec2/securityGroup:SecurityGroup", { ingress: [{ cidrBlocks: ["10.0.0.0/16"] }] }, { ingress: [{ cidrBlocks: ["0.0.0.0/0"] }] }, /whole internet/],
  [noPublicAccess, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", { referencedSecurityGroupId: "sg-1" }, { cidrIpv4: "0.0.0.0/0" }, /whole internet/],
  [backupRetention, RDS, goodRds, { ...goodRds, backupRetentionPeriod: 3 }, />= 7 days \(got 3\)/],
  [backupRetention, RDS, { ...goodRds, replicateSourceDb: "pgkit-prod", backupRetentionPeriod: 0 }, { ...goodRds, backupRetentionPeriod: undefined }, /got 0/],
  [prodDeletionProtection, RDS, goodRds, { ...goodRds, deletionProtection: false }, /deletionProtection: true/],
  [prodDeletionProtection, RDS, goodRds, { ...goodRds, skipFinalSnapshot: true }, /final snapshot/],
  [prodDeletionProtection, RDS, { ...goodRds, tags: { environment: "dev" }, deletionProtection: false, skipFinalSnapshot: true }, { ...goodRds, tags: {} }, /environment` tag/],
  [tlsRequired, "aws:rds/parameterGroup:ParameterGroup",
    { family: "postgres16", parameters: [{ name: "rds.force_ssl", value: "1" }] },
    { family: "postgres16", parameters: [{ name: "rds.force_ssl", value: "0" }] }, /rds.force_ssl = 1/],
  [tlsRequired, RDS, goodRds, { ...goodRds, parameterGroupName: undefined }, /custom parameter group/],
];

describe("policy pack rules", () => {
  it.each(CASES.map((c, i) => [`${c[0].name} on ${c[1].split(":").pop()} #${i}`, ...c] as const))("%s", (_label, policy, type, good, bad, message) => {
    expect(violations(policy, type, good)).toEqual([]);
    expect(violations(policy, type, bad).join("\n")).toMatch(message);
  });

  it("every rule is mandatory and covered by a case", () => {
    expect(policies.map((p) => p.enforcementLevel)).toEqual(policies.map(() => "mandatory"));
    expect(new Set(CASES.map((c) => c[0].name))).toEqual(new Set(policies.map((p) => p.name)));
  });
});

describe("policy pack loading", () => {
  it("loads with PulumiPolicy.yaml's nodeargs the way run-policy-pack requires it, and serves", async () => {
    const spec = load(readFileSync(join(repoRoot, "policy", "PulumiPolicy.yaml"), "utf8")) as { runtime: { options: { nodeargs: string; typescript: boolean } } };
    expect(spec.runtime.options.typescript).toBe(false);
    const nodeargs = spec.runtime.options.nodeargs.split(/\s+/).filter(Boolean);
    // run-policy-pack: cwd is the pack folder, program ".", loaded with require().
    const pack = runInBackground(process.execPath, [...nodeargs, "-e", 'require(require("node:path").join(process.cwd(), "."))'], { cwd: join(repoRoot, "policy") });
    try {
      // It serves and prints the port it listens on, alone on a line.
      const [, port] = await pack.waitFor(/^(\d+)\s*$/m, 60_000);
      expect(Number(port)).toBeGreaterThan(0);
    } finally {
      await pack.stop();
    }
  });
});
