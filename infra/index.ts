// Pulumi entry (Pulumi.yaml: main infra/index.ts, loaded by the Node language host with `--import tsx`).
// The default export is the program: Pulumi runs it and its result becomes the stack outputs
// (endpoints, secret ARNs, vault and bucket names; never a secret value).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { bundleChecksum, loadMigrations } from "../src/migrate/index.js";
import { loadConfig, projectRoot as repoRoot } from "./config.js";
import { withDrillAccess } from "./drillAccess.js";
import { checkEngineVersionChange } from "./engineUpgrade.js";
import { createStack, type StackOutputs } from "./stack.js";

const sqlDir = join(repoRoot, "sql");

/**
 * The local stack's admin password (the RDS-shaped admin login, `pgkit:localAdmin`), from the file
 * `npm start` writes. The postgres superuser's password (`superuserPassword`) is never read here.
 */
function readLocalAdminPassword(path: string): string {
  if (!existsSync(path)) {
    throw new Error(`pgkit:localSecretsFile: ${path} does not exist; run \`npm start\` first (it creates the local stack and this file)`);
  }
  const parsed = JSON.parse(readFileSync(path, "utf8")) as { adminPassword?: unknown };
  if (typeof parsed.adminPassword !== "string" || !parsed.adminPassword) {
    throw new Error(`pgkit:localSecretsFile: ${path} has no adminPassword`);
  }
  return parsed.adminPassword;
}

/** The RDS CA bundle (pgkit:rdsCaBundlePath): PgBouncer verifies RDS against it, and so does the database-object connection. */
function readRdsCaBundle(path: string | undefined): string {
  if (!path || !existsSync(path)) {
    throw new Error(
      `pgkit:rdsCaBundlePath: ${path ? `${path} does not exist` : "not set"}; download it: mkdir -p certs && curl -o certs/rds-global-bundle.pem https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem`,
    );
  }
  return readFileSync(path, "utf8");
}

export default async function program(): Promise<StackOutputs> {
  const cfg = loadConfig(); // fails preview with the key and allowed values when config is wrong
  await checkEngineVersionChange(cfg); // a major upgrade (or a downgrade) fails preview, saying what to do
  const files = await loadMigrations(sqlDir);
  return withDrillAccess(createStack(cfg, {
    repoRoot,
    sqlDir,
    bundle: { checksum: bundleChecksum(files), files: files.map((f) => f.name) },
    localAdminPassword: () => readLocalAdminPassword(cfg.local.secretsFile), // wrapped in pulumi.secret by the stack
    rdsCaBundle: () => readRdsCaBundle(cfg.databaseObjects.caBundlePath),
  }));
}
