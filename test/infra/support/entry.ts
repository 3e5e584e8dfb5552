// Runs test/infra/support/run-entry.ts with the loader flags Pulumi.yaml gives the language host.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";
import { runSync } from "../../../src/proc/run.js";
import { repoRoot, type MockOptions, type Recorded } from "./mocks.js";

export interface PulumiYaml {
  name: string;
  main: string;
  runtime: { name: string; options: { typescript: boolean; nodeargs: string } };
}
export const project = load(readFileSync(join(repoRoot, "Pulumi.yaml"), "utf8")) as PulumiYaml;

export interface EntryRun {
  outputs?: Record<string, unknown>;
  resources?: Recorded[];
  error?: string;
  stderr: string;
}

export function runEntry(stack: string, overrides: Record<string, string> = {}, mockOptions: MockOptions = {}): EntryRun {
  const args = [...project.runtime.options.nodeargs.split(/\s+/).filter(Boolean), join("test", "infra", "support", "run-entry.ts"), stack];
  // Synchronous: the callers run it while vitest collects their describe blocks.
  const r = runSync(process.execPath, args, { cwd: repoRoot, env: { PGKIT_TEST_CONFIG_OVERRIDES: JSON.stringify(overrides), PGKIT_TEST_MOCK_OPTIONS: JSON.stringify(mockOptions) }, timeoutMs: 120_000 });
  const last = r.stdout.trim().split("\n").pop() ?? "";
  try {
    return { ...(JSON.parse(last) as object), stderr: r.stderr };
  } catch {
    return { error: `no report (exit ${r.code}${r.signal ? `, ${r.signal}` : ""})`, stderr: r.stderr };
  }
}

/** The serialized SqlBundle provider exactly as the program (loaded like the language host) hands it to the engine. */
export function serializedBundleProvider(run: EntryRun): string {
  const bundle = run.resources?.find((r) => r.type === "pulumi-nodejs:dynamic/pgkit:SqlBundle");
  return String(bundle?.inputs.__provider ?? "");
}
