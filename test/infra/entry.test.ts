// Loads infra/index.ts exactly as Pulumi.yaml tells the Node language host to (same file, same
// `nodeargs` loader flags, ESM import, default export awaited), under mocks, for each example stack.
// The SqlBundle's serialized provider captured here is the text the engine would receive; the
// applier test runs that very text against a real PostgreSQL.
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { project, runEntry, serializedBundleProvider } from "./support/entry.js";
import { FAKE_RDS_CA_BUNDLE, repoRoot } from "./support/mocks.js";

// The local stack reads the admin login's password (adminPassword, not the postgres superuser's
// superuserPassword) from the file `npm start` writes; point it at a temp one.
const localSecrets = join(mkdtempSync(join(tmpdir(), "pgkit-entry-")), "secrets.json");
writeFileSync(localSecrets, JSON.stringify({ adminPassword: "entry-test-admin", superuserPassword: "entry-test-superuser", appPassword: "a" }));

describe("package.json engines", () => {
  // `nodeargs: --import tsx` (and policy/index.cjs's import("tsx")) register tsx's hooks with module.register,
  // which Node added in 20.6.0 (nodejs.org/api/module.html, module.register: "Added in: v20.6.0, v18.19.0").
  it("floors Node at 20.6 or later", () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { engines?: { node?: string } };
    const floor = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(pkg.engines?.node ?? "");
    expect(floor, `engines.node = ${pkg.engines?.node}`).not.toBeNull();
    const [major, minor] = [Number(floor?.[1]), Number(floor?.[2] ?? 0)];
    expect(major > 20 || (major === 20 && minor >= 6), `engines.node = ${pkg.engines?.node}`).toBe(true);
  });
});

describe("provider plugins", () => {
  // The language host reports no plugin for this program (it searches node_modules below infra/, the folder of
  // main, and there is none), so an air-gapped CI installs them by hand from the list in docs/pulumi.md: it must
  // name every resource package in node_modules at its installed version.
  it("docs/pulumi.md lists every provider plugin at the version in node_modules", () => {
    const installed = readdirSync(join(repoRoot, "node_modules", "@pulumi"))
      .map((d) => JSON.parse(readFileSync(join(repoRoot, "node_modules", "@pulumi", d, "package.json"), "utf8")) as { pulumi?: { resource?: boolean; name?: string; version?: string } })
      .filter((p) => p.pulumi?.resource)
      .map((p) => `pulumi plugin install resource ${p.pulumi?.name} ${p.pulumi?.version}`)
      .sort();
    const documented = readFileSync(join(repoRoot, "docs", "pulumi.md"), "utf8").match(/^pulumi plugin install resource .+$/gm) ?? [];
    expect(installed.length).toBeGreaterThan(0);
    expect([...documented].sort()).toEqual(installed);
  });
});

describe("Pulumi.yaml", () => {
  it("runs the TypeScript ESM entry through tsx, with Pulumi's bundled ts-node off", () => {
    expect(project).toMatchObject({ name: "pgkit", main: "infra/index.ts", runtime: { name: "nodejs", options: { typescript: false, nodeargs: "--import tsx" } } });
  });
});

const STACKS: { stack: string; overrides: Record<string, string>; target: string }[] = [
  // The stack files name certs/rds-global-bundle.pem, which each operator downloads (docs/pulumi.md); the
  // fake one is given relative to the project root too, as a stack file would.
  // Phase 2 (docs/pulumi.md, "Deploying"): database objects managed; the committed files have them off.
  { stack: "dev", overrides: { "pgkit:rdsCaBundlePath": FAKE_RDS_CA_BUNDLE, "pgkit:manageDatabaseObjects": "true" }, target: "aws" },
  { stack: "prod", overrides: { "pgkit:rdsCaBundlePath": FAKE_RDS_CA_BUNDLE, "pgkit:manageDatabaseObjects": "true" }, target: "aws" },
  { stack: "local", overrides: { "pgkit:localSecretsFile": localSecrets }, target: "local" },
];

describe.each(STACKS)("entry loaded like the language host, stack $stack", ({ stack, overrides, target }) => {
  const run = runEntry(stack, overrides);

  it("loads and returns stack outputs", () => {
    expect(run.error, run.stderr).toBeUndefined();
    expect(run.outputs?.target).toBe(target);
    expect(run.outputs?.sqlBundleChecksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it.runIf(target === "aws")("hands providers the RDS CA bundle as an absolute path (they run in infra/, not the project root)", () => {
    const provider = run.resources?.find((r) => r.type === "pulumi:providers:postgresql");
    expect(provider?.inputs.sslrootcert).toBe(join(repoRoot, FAKE_RDS_CA_BUNDLE));
    expect(existsSync(String(provider?.inputs.sslrootcert))).toBe(true);
  });

  it.runIf(target === "local")("applies as pgkit_admin with adminPassword from the secrets file, never the superuser's password", () => {
    const provider = run.resources?.find((r) => r.type === "pulumi:providers:postgresql");
    expect([provider?.inputs.username, provider?.inputs.password, provider?.inputs.superuser]).toEqual(["pgkit_admin", "entry-test-admin", "false"]);
    expect(JSON.stringify(run.resources)).not.toContain("entry-test-superuser");
  });

  it("registers the SQL bundle with a serialized provider that only requires Node built-ins", () => {
    const text = serializedBundleProvider(run);
    expect(text).toContain("exports.handler");
    const required = [...text.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
    expect(required).toEqual(["child_process"]);
  });
});

describe("entry refuses bad config at preview", () => {
  it("names the key and the allowed values", () => {
    const run = runEntry("dev", { "pgkit:readReplicas": "9" });
    expect(run.error).toContain("pgkit:readReplicas: invalid value '9' (allowed: an integer from 0 to 5)");
  });

  it("an engine version without pgvector 0.8 names the key and the minimum", () => {
    const run = runEntry("dev", { "pgkit:engineVersion": "16.4" });
    expect(run.error).toContain("pgkit:engineVersion: 16.4 does not ship pgvector 0.8 (minimum for PostgreSQL 16: 16.5;");
  });

  it("an AWS stack says where to download the RDS CA bundle when the file is missing", () => {
    const run = runEntry("dev", { "pgkit:rdsCaBundlePath": "certs/nonexistent-bundle.pem" });
    expect(run.error).toMatch(/pgkit:rdsCaBundlePath: .*nonexistent-bundle\.pem does not exist; download it: .*truststore\.pki\.rds\.amazonaws\.com/);
  });

  // The program reads the running primary's version through the RDS data sources (mocked: getInstances/getInstance)
  // before registering anything, so `pulumi preview` itself fails (infra/engineUpgrade.ts).
  it("a major version change fails at preview with what to do, unless pgkit:allowMajorVersionUpgrade is set", () => {
    const ca = { "pgkit:rdsCaBundlePath": FAKE_RDS_CA_BUNDLE };
    const refused = runEntry("dev", { ...ca, "pgkit:engineVersion": "17" }, { deployedEngineVersion: "16.5" });
    expect(refused.error).toContain("pgkit:engineVersion: pgkit-dev runs PostgreSQL 16.5 and the config asks for 17: a major version upgrade");
    expect(refused.error).toContain("DROP EVENT TRIGGER pgkit_assign_owner");
    expect(refused.error).toContain("pulumi config set pgkit:allowMajorVersionUpgrade true");
    expect(refused.resources).toBeUndefined(); // nothing registered
    const allowed = runEntry("dev", { ...ca, "pgkit:engineVersion": "17", "pgkit:allowMajorVersionUpgrade": "true" }, { deployedEngineVersion: "16.5" });
    expect(allowed.error, allowed.stderr).toBeUndefined();
    expect(allowed.resources?.find((r) => r.name === "pgkit-primary")?.inputs).toMatchObject({ engineVersion: "17", allowMajorVersionUpgrade: true });
    // the committed dev file ("16") against a running 16.x is no change at all
    expect(runEntry("dev", ca, { deployedEngineVersion: "16.6" }).error).toBeUndefined();
  });

  it("a minor below the running one (RDS moved it forward) fails at preview", () => {
    const run = runEntry("dev", { "pgkit:rdsCaBundlePath": FAKE_RDS_CA_BUNDLE, "pgkit:engineVersion": "16.5" }, { deployedEngineVersion: "16.8" });
    expect(run.error).toContain("pgkit:engineVersion: 16.5 is below the running pgkit-dev (PostgreSQL 16.8");
  });

  it("the local stack says to run npm start when its secrets file is missing", () => {
    const run = runEntry("local", { "pgkit:localSecretsFile": "/nonexistent/secrets.json" });
    expect(run.error).toMatch(/does not exist; run `npm start` first/);
  });
});
