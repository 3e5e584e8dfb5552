// Pulumi engine and AWS mocks for the infra tests. Everything a provider would compute (ids, ARNs,
// endpoints) is invented here; everything the program decides is recorded as it was registered.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { load } from "js-yaml";

export const repoRoot = resolve(import.meta.dirname, "../../..");

export interface Recorded {
  type: string;
  name: string;
  /** Inputs with secret wrappers removed. */
  inputs: Record<string, unknown>;
  /** Top-level input keys that arrived as Pulumi secrets. */
  secretKeys: string[];
  /** The parent's URN-ish name is not exposed by mocks; the resource type token is enough for these tests. */
  provider?: string;
}

export const MOCK_PASSWORD_PREFIX = "mock-secret-";
/** Fake RDS CA bundle (self-signed certificates with RDS-like subjects), relative to the repo root. */
export const FAKE_RDS_CA_BUNDLE = "test/infra/fixtures/fake-rds-ca-bundle.pem";

/** A PEM-shaped stand-in for what the tls provider would generate. */
export const mockPem = (label: string, name: string) => `-----BEGIN ${label}-----\nmock-${name}\n-----END ${label}-----\n`;

export function mockOutputs(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  const arn = `arn:aws:mock:eu-west-1:123456789012:${type.split(":")[1]}/${name}`;
  const base: Record<string, unknown> = { ...inputs, arn, id: `${name}-id` };
  switch (type) {
    case "aws:rds/instance:Instance":
      return {
        ...base,
        identifier: inputs.identifier ?? name,
        address: `${name}.abc123.eu-west-1.rds.amazonaws.com`,
        endpoint: `${name}.abc123.eu-west-1.rds.amazonaws.com:5432`,
        port: 5432,
        resourceId: `db-${name.toUpperCase().replace(/[^A-Z0-9]/g, "")}`,
        masterUserSecrets: inputs.manageMasterUserPassword ? [{ secretArn: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!${name}`, secretStatus: "active" }] : [],
      };
    case "aws:lb/loadBalancer:LoadBalancer":
      return { ...base, dnsName: `${name}-0123.elb.eu-west-1.amazonaws.com`, arnSuffix: `net/${name}/0123` };
    case "aws:lb/targetGroup:TargetGroup":
      return { ...base, arnSuffix: `targetgroup/${name}/0123` };
    case "aws:s3/bucket:Bucket":
      return { ...base, bucket: `${name}-0123` };
    case "aws:kms/key:Key":
      return { ...base, keyId: `${name}-key-id` };
    case "random:index/randomPassword:RandomPassword":
      return { ...base, result: `${MOCK_PASSWORD_PREFIX}${name}` };
    case "tls:index/privateKey:PrivateKey":
      return { ...base, privateKeyPem: mockPem("EC PRIVATE KEY", name), publicKeyPem: mockPem("PUBLIC KEY", name) };
    case "tls:index/selfSignedCert:SelfSignedCert":
    case "tls:index/locallySignedCert:LocallySignedCert":
      return { ...base, certPem: mockPem("CERTIFICATE", name) };
    case "tls:index/certRequest:CertRequest":
      return { ...base, certRequestPem: mockPem("CERTIFICATE REQUEST", name) };
    case "aws:secretsmanager/secretVersion:SecretVersion":
      // Secrets Manager gives every new value a new version id.
      return { ...base, versionId: `v-${createHash("sha256").update(String(inputs.secretString)).digest("hex").slice(0, 12)}` };
    case "random:index/randomBytes:RandomBytes": {
      // Deterministic per name (and per keepers, so a rotated password gets another salt), like state would be.
      const bytes = createHash("sha256").update(`${name}:${JSON.stringify(inputs.keepers ?? {})}`).digest().subarray(0, Number(inputs.length));
      return { ...base, base64: bytes.toString("base64"), hex: bytes.toString("hex") };
    }
    case "random:index/randomId:RandomId": {
      const bytes = createHash("sha256").update(`id:${name}`).digest().subarray(0, Number(inputs.byteLength));
      return { ...base, hex: bytes.toString("hex"), b64Url: bytes.toString("base64url") };
    }
    case "aws:secretsmanager/secret:Secret":
      // namePrefix: the provider appends a unique id (26 characters) to the prefix.
      return { ...base, name: inputs.name ?? (inputs.namePrefix ? `${String(inputs.namePrefix)}20261206000000000000000001` : name) };
    default:
      return { ...base, name: inputs.name ?? name };
  }
}

export interface MockOptions {
  /** RandomPassword resources (by name) that answer with another password, as after `pulumi up --replace`. */
  rotatedPasswords?: string[];
  /** The engine version of an already deployed primary (`pgkit-<env>`) the RDS data sources report; none by default. */
  deployedEngineVersion?: string;
}

export function createMocks(recorded: Recorded[], options: MockOptions = {}): pulumi.runtime.Mocks {
  return {
    newResource(args: pulumi.runtime.MockResourceArgs) {
      const inputs: Record<string, unknown> = {};
      const secretKeys: string[] = [];
      for (const [k, v] of Object.entries(args.inputs as Record<string, unknown>)) {
        if (pulumi.runtime.isRpcSecret(v)) {
          secretKeys.push(k);
          inputs[k] = pulumi.runtime.unwrapRpcSecret(v);
        } else {
          inputs[k] = v;
        }
      }
      recorded.push({ type: args.type, name: args.name, inputs, secretKeys, provider: args.provider });
      const state = mockOutputs(args.type, args.name, inputs);
      if (args.type === "random:index/randomPassword:RandomPassword" && options.rotatedPasswords?.includes(args.name)) {
        state.result = `${String(state.result)}-rotated`;
      }
      return { id: String(state.id), state };
    },
    call(args: pulumi.runtime.MockCallArgs) {
      switch (args.token) {
        case "aws:index/getRegion:getRegion":
          return { name: "eu-west-1", region: "eu-west-1", id: "eu-west-1" };
        case "aws:index/getCallerIdentity:getCallerIdentity":
          return { accountId: "123456789012", arn: "arn:aws:iam::123456789012:user/test", userId: "test", id: "123456789012" };
        case "aws:index/getAvailabilityZones:getAvailabilityZones":
          return { names: ["eu-west-1a", "eu-west-1b", "eu-west-1c"], zoneIds: ["euw1-az1", "euw1-az2", "euw1-az3"], id: "eu-west-1" };
        case "aws:ec2/getVpc:getVpc":
          return { id: args.inputs.id, cidrBlock: "10.20.0.0/16" };
        case "aws:ssm/getParameter:getParameter":
          return { name: args.inputs.name, value: "ami-0123456789abcdef0", type: "String" };
        case "aws:rds/getInstances:getInstances": {
          const id = String((args.inputs.filters as { values: string[] }[] | undefined)?.[0]?.values[0]);
          const ids = options.deployedEngineVersion ? [id] : [];
          return { id: "eu-west-1", instanceIdentifiers: ids, instanceArns: ids.map((i) => `arn:aws:rds:eu-west-1:123456789012:db:${i}`) };
        }
        case "aws:rds/getInstance:getInstance":
          if (!options.deployedEngineVersion) throw new Error(`DBInstanceNotFound: ${String(args.inputs.dbInstanceIdentifier)}`);
          return { id: args.inputs.dbInstanceIdentifier, dbInstanceIdentifier: args.inputs.dbInstanceIdentifier, engineVersion: options.deployedEngineVersion };
        case "aws:secretsmanager/getSecretVersion:getSecretVersion":
          return { secretId: args.inputs.secretId, secretString: JSON.stringify({ username: "pgkit_admin", password: `${MOCK_PASSWORD_PREFIX}master` }) };
        default:
          throw new Error(`unmocked call ${args.token}`);
      }
    },
  };
}

/** A stack file's config as the language host hands it over: flat keys, lists and maps as JSON. */
export function stackFileConfig(stack: string): Record<string, string> {
  const doc = load(readFileSync(join(repoRoot, `Pulumi.${stack}.yaml`), "utf8")) as { config?: Record<string, unknown> };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(doc.config ?? {})) {
    out[k] = typeof v === "string" ? v : JSON.stringify(v);
  }
  return out;
}

/** `pgkit:`-namespaced stack config as the raw map parseConfig takes. */
export function rawPgkitConfig(stack: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(stackFileConfig(stack))
      .filter(([k]) => k.startsWith("pgkit:"))
      .map(([k, v]) => [k.slice("pgkit:".length), v]),
  );
}

/** Resolves an output (or plain value, or nested record of outputs) to its plain value. */
export async function resolveOutput(value: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) {
    return new Promise((res) => (value as pulumi.Output<unknown>).apply((v) => res(v)));
  }
  return value;
}

export async function resolveOutputs(outputs: Record<string, unknown>): Promise<Record<string, unknown>> {
  const entries = await Promise.all(Object.entries(outputs).map(async ([k, v]) => [k, await resolveOutput(v)] as const));
  return Object.fromEntries(entries);
}

/** Waits until no new resource has been registered for a while (mocks register asynchronously). */
export async function settle(recorded: Recorded[], quietMs = 150): Promise<void> {
  let last = -1;
  while (last !== recorded.length) {
    last = recorded.length;
    await new Promise((r) => setTimeout(r, quietMs));
  }
}
