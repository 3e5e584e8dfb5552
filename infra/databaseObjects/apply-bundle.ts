// The code the SqlBundle resource runs for real: applies the SQL bundle through the project's
// migration runner and prints one JSON report line. Started by the provider as
// `node --import tsx infra/databaseObjects/apply-bundle.ts` with the request in PGKIT_SQL_BUNDLE_REQUEST.
import { pathToFileURL } from "node:url";
import pg from "pg";
import { registerContextKeys } from "../../src/db/context-token.js";
import { applyMigrations, DriftError } from "../../src/migrate/index.js";
import { APPLIER_ENV, type ApplierReport, type BundleConnection, type ContextKeyInput } from "./sqlBundle.js";

interface Request {
  connection: BundleConnection;
  dir: string;
  /** Request-context signing keys to register after the bundle (sql/0930), idempotently. */
  contextKeys?: ContextKeyInput[];
}

/** libpq-compatible URL (pg's own sslmode aliases differ; uselibpqcompat makes verify-ca mean verify-ca). */
export function connectionString(c: BundleConnection): string {
  const url = new URL(`postgresql://${c.host}:${c.port}/`);
  url.username = c.user;
  url.password = c.password;
  url.pathname = `/${encodeURIComponent(c.database)}`;
  if (c.sslMode === "disable") {
    url.searchParams.set("sslmode", "disable");
  } else {
    url.searchParams.set("uselibpqcompat", "true");
    url.searchParams.set("sslmode", c.sslMode);
    if (c.sslRootCert) url.searchParams.set("sslrootcert", c.sslRootCert);
  }
  url.searchParams.set("application_name", "pgkit-pulumi-sql-bundle");
  return url.toString();
}

export async function applyBundle(req: Request, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<ApplierReport> {
  try {
    const result = await applyMigrations({ connectionString: connectionString(req.connection), dir: req.dir, log });
    if (req.contextKeys?.length) {
      const client = new pg.Client({ connectionString: connectionString(req.connection) });
      await client.connect();
      try {
        await registerContextKeys(client, req.contextKeys.map((k) => ({ kid: k.kid, purpose: k.purpose, secret: Buffer.from(k.secret, "base64url") })));
      } finally {
        await client.end();
      }
      log(`registered request-context keys ${req.contextKeys.map((k) => k.kid).join(", ")}`);
    }
    return { ok: true, applied: result.applied, alreadyApplied: result.alreadyApplied, checksum: result.checksum };
  } catch (e) {
    if (e instanceof DriftError) {
      return { ok: false, error: `drift: already-applied migration(s) changed: ${e.files.join(", ")} (add a new file instead)`, drift: e.files };
    }
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

async function main(): Promise<void> {
  const raw = process.env[APPLIER_ENV];
  if (!raw) throw new Error(`${APPLIER_ENV} is not set`);
  const report = await applyBundle(JSON.parse(raw) as Request);
  process.stdout.write(`${JSON.stringify(report)}\n`);
  process.exitCode = report.ok ? 0 : 1;
}

// Only when run as a script (tests import applyBundle/connectionString directly).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
