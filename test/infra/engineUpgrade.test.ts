// engineChangeProblem: which engine version changes `pulumi up` must not make unasked (infra/engineUpgrade.ts). The
// entry test (test/infra/entry.test.ts) runs the same check through the program under mocked RDS data sources.
import { describe, expect, it } from "vitest";
import { parseConfig, type RawConfig } from "../../infra/config.js";
import { engineChangeProblem, primaryIdentifier } from "../../infra/engineUpgrade.js";

const cfg = (raw: RawConfig) => parseConfig({ environment: "prod", rdsCaBundlePath: "certs/rds-global-bundle.pem", ...raw });

describe("engine version changes", () => {
  it.each([
    ["16.5", "16"], ["16.5", "16.5"], ["16.5", "16.8"], ["17.2", "17"],
  ])("running %s, config %s: nothing to refuse", (deployed, wanted) => {
    expect(engineChangeProblem(deployed, cfg({ engineVersion: wanted }))).toBeUndefined();
  });

  it("a major upgrade is refused with the runbook, and allowed with pgkit:allowMajorVersionUpgrade", () => {
    const problem = engineChangeProblem("15.9", cfg({ engineVersion: "16" }));
    expect(problem).toMatch(/^pgkit:engineVersion: pgkit-prod runs PostgreSQL 15\.9 and the config asks for 16: a major version upgrade/);
    expect(problem).toContain("docs/pulumi.md, \"Major version upgrade\"");
    expect(engineChangeProblem("15.9", cfg({ engineVersion: "16", allowMajorVersionUpgrade: "true" }))).toBeUndefined();
  });

  it("a downgrade of the major is refused even when upgrades are allowed", () => {
    expect(engineChangeProblem("17.2", cfg({ engineVersion: "16", allowMajorVersionUpgrade: "true" }))).toMatch(/RDS cannot downgrade a major/);
  });

  it("a minor below the running one is refused, naming the versions that work", () => {
    expect(engineChangeProblem("16.8", cfg({ engineVersion: "16.5" }))).toMatch(/Set pgkit:engineVersion to 16 \(the major alone\) or 16\.8\.$/);
  });

  it("looks up the identifier the Database component gives the primary", () => {
    expect(primaryIdentifier("dev")).toBe("pgkit-dev");
  });
});
