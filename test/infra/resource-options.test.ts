// Resource options the program sets, which the mocks never see (newResource gets inputs only): a stack
// transformation records them, inside a root stack as the engine's run has one. A file of its own, because the root
// stack it creates stays the parent of every later resource in the module.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { expect, it } from "vitest";
import { parseConfig } from "../../infra/config.js";
import { createStack } from "../../infra/stack.js";
import { bundleChecksum, loadMigrations } from "../../src/migrate/index.js";
import { createMocks, FAKE_RDS_CA_BUNDLE, rawPgkitConfig, repoRoot } from "./support/mocks.js";

it("keeps an existing instance: dbName (a new value would force a new instance) is in the primary's ignoreChanges", async () => {
  const files = await loadMigrations(join(repoRoot, "sql"));
  const options: Record<string, pulumi.CustomResourceOptions> = {};
  await pulumi.runtime.setMocks(createMocks([]), "pgkit", "prod", false);
  await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation((a) => {
      options[`${a.type}::${a.name}`] = a.opts as pulumi.CustomResourceOptions;
      return undefined;
    });
    return createStack(parseConfig(rawPgkitConfig("prod")), {
      repoRoot,
      sqlDir: join(repoRoot, "sql"),
      bundle: { checksum: bundleChecksum(files), files: files.map((f) => f.name) },
      rdsCaBundle: () => readFileSync(join(repoRoot, FAKE_RDS_CA_BUNDLE), "utf8"),
    });
  });
  const primary = options["aws:rds/instance:Instance::pgkit-primary"];
  expect([primary?.ignoreChanges, primary?.protect]).toEqual([["dbName"], true]);
});
