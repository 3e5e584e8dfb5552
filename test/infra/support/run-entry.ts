// Loads the Pulumi entry the way the Node language host does, under mocks:
//   node <runtime.options.nodeargs from Pulumi.yaml> test/infra/support/run-entry.ts <stack>
// Like @pulumi/pulumi/cmd/run: config from the stack file, the `main` file from Pulumi.yaml loaded
// with import() (package.json is "type": "module"), a default-export function called and awaited
// for the stack outputs. Prints one JSON line: { outputs, resources } or { error }.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import { load } from "js-yaml";
import { createMocks, repoRoot, resolveOutputs, settle, stackFileConfig, type MockOptions, type Recorded } from "./mocks.js";

const stack = process.argv[2];
if (!stack) throw new Error("usage: run-entry.ts <stack>");
const project = load(readFileSync(resolve(repoRoot, "Pulumi.yaml"), "utf8")) as { name: string; main: string };
const overrides = JSON.parse(process.env.PGKIT_TEST_CONFIG_OVERRIDES ?? "{}") as Record<string, string>;

const recorded: Recorded[] = [];
const mockOptions = JSON.parse(process.env.PGKIT_TEST_MOCK_OPTIONS ?? "{}") as MockOptions;
await pulumi.runtime.setMocks(createMocks(recorded, mockOptions), project.name, stack, false);
pulumi.runtime.setAllConfig({ ...stackFileConfig(stack), ...overrides });

try {
  // The engine runs the program (and every provider plugin) in the folder of `main`, not the project root:
  // github.com/pulumi/pulumi pkg/engine/project.go getPwdMain (pwd = dirname(main), here infra/), handed to
  // the Node language host's run as `--pwd` (sdk/nodejs/cmd/pulumi-language-nodejs/main.go).
  process.chdir(dirname(resolve(repoRoot, project.main)));
  const mod = (await import(pathToFileURL(resolve(repoRoot, project.main)).href)) as Record<string, unknown>;
  let exported: unknown = Object.getOwnPropertyDescriptor(mod, "default") !== undefined ? mod.default : mod;
  if (typeof exported === "function") exported = await (exported as () => unknown)();
  const outputs = await resolveOutputs((exported ?? {}) as Record<string, unknown>);
  await settle(recorded);
  process.stdout.write(`${JSON.stringify({ outputs, resources: recorded })}\n`);
} catch (e) {
  process.stdout.write(`${JSON.stringify({ error: e instanceof Error ? e.message : String(e) })}\n`);
  process.exitCode = 1;
}
