// The CrossGuard rules, called directly: a compliant and a non-compliant resource for each rule.
// Plus: the pack starts the way `pulumi preview --policy-pack policy` starts it and answers Analyze over gRPC.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import * as grpc from "@grpc/grpc-js";
import * as analyzerGrpc from "@pulumi/pulumi/proto/analyzer_grpc_pb.js";
import * as analyzerPb from "@pulumi/pulumi/proto/analyzer_pb.js";
import { Struct } from "google-protobuf/google/protobuf/struct_pb.js";
import { load } from "js-yaml";
import { describe, expect, it } from "vitest";
import { backupRetention, encryptionAtRest, noPublicAccess, policies, prodDeletionProtection, securityGroupRules, tlsRequired } from "../../policy/rules.js";
import { runInBackground } from "../../src/proc/run.js";
import { repoRoot } from "./support/mocks.js";

const require = createRequire(import.meta.url);

function violations(policy: ResourceValidationPolicy, type: string, props: Record<string, unknown>): string[] {
  const found: string[] = [];
  const args = { type, props, urn: `urn:pulumi:test::pgkit::${type}::r`, name: "r", opts: {}, stackTags: new Map() } as unknown as ResourceValidationArgs;
  const validate = policy.validateResource;
  for (const v of Array.isArray(validate) ? validate : validate ? [validate] : []) v(args, (message) => found.push(message));
  return found;
}

const RDS = "aws:rds/instance:Instance";
const SG = "aws:ec2/securityGroup:SecurityGroup";
const HTTPS_OUT = { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] };
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
  [encryptionAtRest, "aws:sns/topic:Topic", { kmsMasterKeyId: "arn:kms" }, {}, /SNS topic/],
  [encryptionAtRest, "aws:sns/topic:Topic", { kmsMasterKeyId: "arn:kms" }, { kmsMasterKeyId: "alias/aws/sns" }, /customer-managed/],
  [encryptionAtRest, "aws:cloudwatch/logGroup:LogGroup", { kmsKeyId: "arn:kms", retentionInDays: 30 }, { retentionInDays: 30 }, /log group/],
  [securityGroupRules, SG, { ingress: [{ cidrBlocks: ["10.0.0.0/16"] }] }, { ingress: [{ cidrBlocks: ["0.0.0.0/0"] }] }, /ingress from the whole internet/],
  [securityGroupRules, SG, { ingress: [{ cidrBlocks: ["10.0.0.0/16"] }] }, { ingress: [{ ipv6CidrBlocks: ["::/0"] }] }, /ingress from the whole internet/],
  [securityGroupRules, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", { referencedSecurityGroupId: "sg-1" }, { cidrIpv4: "0.0.0.0/0" }, /whole internet/],
  // egress: HTTPS to the internet (image pulls, AWS APIs, SSM) is the only open egress allowed
  [securityGroupRules, SG, { egress: [HTTPS_OUT] }, { egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }] }, /egress to the whole internet except HTTPS/],
  [securityGroupRules, SG, { egress: [HTTPS_OUT, { protocol: "tcp", fromPort: 5432, toPort: 5432, cidrBlocks: ["10.0.0.0/16"] }] }, { egress: [{ protocol: "tcp", fromPort: 0, toPort: 65535, cidrBlocks: ["0.0.0.0/0"] }] }, /ports 0-65535/],
  [securityGroupRules, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", { ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" }, { ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" }, /egress/],
  [securityGroupRules, "aws:ec2/securityGroupRule:SecurityGroupRule", { type: "egress", protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] }, { type: "egress", protocol: "udp", fromPort: 53, toPort: 53, cidrBlocks: ["0.0.0.0/0"] }, /egress/],
  [securityGroupRules, "aws:ec2/securityGroupRule:SecurityGroupRule", { type: "ingress", protocol: "tcp", fromPort: 443, toPort: 443, sourceSecurityGroupId: "sg-1" }, { type: "ingress", protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] }, /ingress/],
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
  // How `pulumi preview --policy-pack policy` starts the pack (github.com/pulumi/pulumi):
  // sdk/go/common/resource/plugin/analyzer_plugin.go runs it through the Node language host's RunPlugin with
  // args [engine address]; sdk/nodejs/cmd/pulumi-language-nodejs/main.go (RunPlugin) then runs
  //   node <@pulumi/pulumi/cmd/run-policy-pack> <nodeargs> <args…> <pack folder>
  // with the pack folder as working directory (nodeargs after the script: they never reach Node). The pack
  // prints its gRPC port; the engine then calls Analyze for each resource.
  it("starts the way the language host starts it, serves gRPC and reports compliant and non-compliant resources", async () => {
    const spec = load(readFileSync(join(repoRoot, "policy", "PulumiPolicy.yaml"), "utf8")) as { runtime: string | { options?: { nodeargs?: string } } };
    const nodeargs = ((typeof spec.runtime === "string" ? undefined : spec.runtime.options?.nodeargs) ?? "").split(/\s+/).filter(Boolean);
    const packDir = join(repoRoot, "policy");
    const runPolicyPack = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [packDir] });
    const pack = runInBackground(process.execPath, [runPolicyPack, ...nodeargs, "127.0.0.1:1", packDir], { cwd: packDir });
    try {
      const [, port] = await pack.waitFor(/^(\d+)\s*$/m, 60_000);
      const client = new analyzerGrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
      try {
        const analyze = (props: Record<string, unknown>, type: string = RDS) => {
          const req = new analyzerPb.AnalyzeRequest();
          req.setType(type);
          req.setUrn(`urn:pulumi:test::pgkit::${type}::db`);
          req.setName("db");
          req.setProperties(Struct.fromJavaScript(props as never));
          req.setOptions(new analyzerPb.AnalyzerResourceOptions()); // the engine always sends them
          return new Promise<string[]>((resolve, reject) =>
            client.analyze(req, (err, res) => (err ? reject(err) : resolve(res.getDiagnosticsList().map((d) => `${d.getPolicyname()}: ${d.getMessage()}`)))),
          );
        };
        expect(await analyze(goodRds)).toEqual([]);
        const bad = await analyze({ ...goodRds, publiclyAccessible: true, storageEncrypted: false });
        expect(bad.some((d) => d.startsWith(`${noPublicAccess.name}:`))).toBe(true);
        expect(bad.some((d) => d.startsWith(`${encryptionAtRest.name}:`))).toBe(true);
        // the SNS, log group and security group rules, through the same runner
        expect(await analyze({ kmsMasterKeyId: "arn:kms" }, "aws:sns/topic:Topic")).toEqual([]);
        // the runner prefixes the rule's description: "<rule>: <description>\n<message>"
        const one = (found: string[], name: string, message: string) => {
          expect(found).toHaveLength(1);
          expect([found[0].startsWith(`${name}: `), found[0].endsWith(`\n${message}`)], found[0]).toEqual([true, true]);
        };
        one(await analyze({}, "aws:sns/topic:Topic"), encryptionAtRest.name, "SNS topic must be encrypted with a customer-managed KMS key (kmsMasterKeyId)");
        expect(await analyze({ kmsKeyId: "arn:kms" }, "aws:cloudwatch/logGroup:LogGroup")).toEqual([]);
        one(await analyze({ retentionInDays: 30 }, "aws:cloudwatch/logGroup:LogGroup"), encryptionAtRest.name, "CloudWatch log group must be encrypted with a customer-managed KMS key (kmsKeyId)");
        expect(await analyze({ egress: [HTTPS_OUT], ingress: [{ protocol: "tcp", fromPort: 5432, toPort: 5432, cidrBlocks: ["10.0.0.0/16"] }] }, SG)).toEqual([]);
        one(await analyze({ egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }] }, SG), securityGroupRules.name,
          "Security group must not allow egress to the whole internet except HTTPS (tcp 443); got protocol -1 ports 0-0");
      } finally {
        client.close();
      }
    } finally {
      await pack.stop();
    }
  }, 90_000);
});
