// The code the SqlBundle resource runs for real, against a real PostgreSQL (the test stack):
// create, no-op on an unchanged checksum, apply on a new file, refusal on drift.
// The provider is not imported: it is the text `pulumi.runtime.serializeFunction` produced when
// infra/index.ts was loaded like the language host loads it (tsx ESM), evaluated the way Pulumi's
// dynamic-provider host evaluates it (require-from-string, CommonJS). So this also proves the
// serialized closure runs.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { applyBundle, connectionString } from "../../infra/databaseObjects/apply-bundle.js";
import type { BundleConnection, SqlBundleInputs, SqlBundleOutputs } from "../../infra/databaseObjects/sqlBundle.js";
import { bundleChecksum, loadMigrations } from "../../src/migrate/index.js";
import { freshDatabase, migratedDatabase, type TestDb } from "../support/db.js";
import { runEntry, serializedBundleProvider } from "./support/entry.js";
import { repoRoot } from "./support/mocks.js";

interface DeserializedProvider {
  diff(id: string, olds: SqlBundleOutputs, news: SqlBundleInputs): Promise<{ changes: boolean }>;
  create(inputs: SqlBundleInputs): Promise<{ id: string; outs: SqlBundleOutputs }>;
  update(id: string, olds: SqlBundleOutputs, news: SqlBundleInputs): Promise<{ outs: SqlBundleOutputs }>;
  delete(id: string, props: SqlBundleOutputs): Promise<void>;
}

const requireFromString = createRequire(import.meta.url)("require-from-string") as (code: string) => { handler: () => DeserializedProvider };

let db: TestDb;
let dir: string;
let provider: DeserializedProvider;

function connectionOf(url: string): BundleConnection {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 5432),
    database: decodeURIComponent(u.pathname.slice(1)),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    sslMode: "disable",
  };
}

async function inputs(): Promise<SqlBundleInputs> {
  const files = await loadMigrations(dir);
  return { connection: connectionOf(db.url), repoRoot, dir, checksum: bundleChecksum(files), files: files.map((f) => f.name) };
}

async function tables(): Promise<string[]> {
  const r = await db.pool.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'bundle_test' ORDER BY 1");
  return r.rows.map((x) => x.t);
}

beforeAll(async () => {
  // Load the entry like the language host (local stack: no AWS), take the serialized provider from it.
  const secrets = join(mkdtempSync(join(tmpdir(), "pgkit-bundle-")), "secrets.json");
  writeFileSync(secrets, JSON.stringify({ adminPassword: "unused", bouncerPassword: "b", appPassword: "a" }));
  const run = runEntry("local", { "pgkit:localSecretsFile": secrets });
  const text = serializedBundleProvider(run);
  if (!text) throw new Error(`no serialized provider: ${run.error ?? ""}\n${run.stderr}`);
  provider = requireFromString(text).handler();

  db = await freshDatabase();
  dir = mkdtempSync(join(tmpdir(), "pgkit-sql-"));
  writeFileSync(join(dir, "0001_schema.sql"), "CREATE SCHEMA bundle_test;\n");
  writeFileSync(join(dir, "0002_first.sql"), "CREATE TABLE bundle_test.first (id int PRIMARY KEY);\n");
});

afterAll(async () => {
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("SqlBundle provider against PostgreSQL", () => {
  let state: SqlBundleOutputs;

  it("create applies every file and records the bundle checksum", async () => {
    const news = await inputs();
    const { id, outs } = await provider.create(news);
    state = outs;
    expect([id, outs.applied, outs.checksum]).toEqual([`${news.connection.host}:${news.connection.port}/${db.name}`, ["0001_schema.sql", "0002_first.sql"], news.checksum]);
    expect(await tables()).toEqual(["first"]);
    expect(JSON.stringify(outs)).not.toContain(news.connection.password);
  });

  it("an unchanged bundle is no change (preview shows nothing) and re-applying it applies nothing", async () => {
    const news = await inputs();
    expect((await provider.diff("id", state, news)).changes).toBe(false);
    const { outs } = await provider.update("id", state, news);
    expect([outs.applied, outs.alreadyApplied]).toEqual([[], 2]);
  });

  it("a new file changes the checksum (preview shows an update) and update applies just that file", async () => {
    writeFileSync(join(dir, "0003_second.sql"), "CREATE TABLE bundle_test.second (id int PRIMARY KEY);\n");
    const news = await inputs();
    expect(news.checksum).not.toBe(state.checksum);
    expect((await provider.diff("id", state, news)).changes).toBe(true);
    const { outs } = await provider.update("id", state, news);
    state = outs;
    expect([outs.applied, outs.checksum]).toEqual([["0003_second.sql"], news.checksum]);
    expect(await tables()).toEqual(["first", "second"]);
  });

  it("refuses drift: an applied file that changed fails the update and nothing pending runs", async () => {
    writeFileSync(join(dir, "0002_first.sql"), "CREATE TABLE bundle_test.first (id bigint PRIMARY KEY);\n");
    writeFileSync(join(dir, "0004_third.sql"), "CREATE TABLE bundle_test.third (id int PRIMARY KEY);\n");
    const news = await inputs();
    expect((await provider.diff("id", state, news)).changes).toBe(true);
    await expect(provider.update("id", state, news)).rejects.toThrow(/SQL bundle not applied: drift: .*0002_first\.sql/);
    expect(await tables()).toEqual(["first", "second"]);
  });

  it("delete leaves the schema in place", async () => {
    await provider.delete("id", state);
    expect(await tables()).toEqual(["first", "second"]);
  });

  it("a bad password fails with PostgreSQL's message, not a hang", async () => {
    const news = await inputs();
    await expect(provider.create({ ...news, connection: { ...news.connection, password: "wrong" } })).rejects.toThrow(/SQL bundle not applied: .*password authentication failed/);
  });
});

describe("applier connection string", () => {
  const c: BundleConnection = { host: "db.example", port: 5432, database: "pgkit", user: "pgkit_admin", password: "p@ss/word", sslMode: "verify-ca", sslRootCert: "/certs/rds.pem" };

  it("uses libpq TLS semantics with the RDS CA and escapes the password", () => {
    const u = new URL(connectionString(c));
    expect([u.username, decodeURIComponent(u.password), u.searchParams.get("sslmode"), u.searchParams.get("uselibpqcompat"), u.searchParams.get("sslrootcert")]).toEqual([
      "pgkit_admin", "p@ss/word", "verify-ca", "true", "/certs/rds.pem",
    ]);
  });

  it("disables TLS only when asked (the loopback local stack)", () => {
    expect(new URL(connectionString({ ...c, sslMode: "disable", sslRootCert: undefined })).searchParams.get("sslmode")).toBe("disable");
  });
});

describe("the applier registers the request-context keys after the bundle (sql/0930)", () => {
  it("registers each key once (idempotent), so the database verifies tokens they sign", async () => {
    const mdb = await migratedDatabase();
    try {
      const u = new URL(mdb.url);
      const connection = { host: u.hostname, port: Number(u.port), database: mdb.name, user: decodeURIComponent(u.username), password: decodeURIComponent(u.password), sslMode: "disable" as const };
      const key = { kid: `user-${Date.now().toString(16)}`, purpose: "user" as const, secret: randomBytes(32).toString("base64url") };
      for (let i = 0; i < 2; i++) {
        const r = await applyBundle({ connection, dir: join(repoRoot, "sql"), contextKeys: [key] }, () => {});
        expect(r.ok).toBe(true);
      }
      const rows = await mdb.pool.query("SELECT purpose, retired_at FROM app_private.context_signing_keys WHERE kid = $1", [key.kid]);
      expect(rows.rows).toEqual([{ purpose: "user", retired_at: null }]);
    } finally {
      await mdb.drop();
    }
  });
});
