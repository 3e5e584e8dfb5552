// The AWS pooler's authentication and TLS, run for real on this machine: a throwaway PostgreSQL that, like
// RDS with rds.force_ssl = 1, accepts only TLS with SCRAM, its certificate signed by a stand-in "RDS" CA;
// a login role created with scramVerifier's verifier (as infra/credentials.ts does); and PgBouncer started
// by the very entrypoint script and ini the task runs (entrypointScript, renderPgbouncerIni,
// renderAuthFile), its files given as the container's environment variables, with a client certificate
// from a stand-in of the stack's CA (same shape as infra/pooler/tls.ts: ECDSA P-256, SAN = the host name).
// Proves: SCRAM pass-through from the auth_file verifier, TLS verified to the server (verify-full: a wrong
// host name fails), TLS required from clients, and that clients connect with sslmode=require and with
// verify-full against the CA. Not proven here: the image's PgBouncer (1.24.1, here the distribution's) and
// busybox sh (here dash), the RDS certificate chain, AWS itself.
import { randomBytes } from "node:crypto";
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pgBinDir, stackConfig } from "../../src/config.js";
import { reservePorts, type PortLease } from "../../src/proc/ports.js";
import { runInBackground, runSync, type Background } from "../../src/proc/run.js";
import { osUserIds } from "../../src/proc/system.js";
import { scramVerifier } from "../../src/local/secrets.js";
import { SCRAM_ITERATIONS, SCRAM_SALT_BYTES } from "../../infra/credentials.js";
import {
  CONTAINER_FILES, type ContainerFile, entrypointScript, HEALTH_LOGIN, healthCheckCommand, healthPgpassLine, renderAuthFile, renderPgbouncerIni,
} from "../../infra/pooler/pgbouncer.ini.js";

const tools = [join(pgBinDir, "initdb"), join(pgBinDir, "pg_ctl"), "/usr/bin/psql", "/usr/bin/openssl"];
const pgbouncer = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"].find((p) => existsSync(p));
const available = Boolean(pgbouncer) && tools.every((t) => existsSync(t));

const osUser = stackConfig("test").osUser; // PostgreSQL and PgBouncer refuse to run as root
const ids = osUserIds(osUser);
const LOGIN = "pgkit_app_login";
const PASSWORD = randomBytes(24).toString("base64url");
const SUPERUSER_PASSWORD = randomBytes(24).toString("base64url");
// As infra/credentials.ts computes it: the role and the auth_file both get this, never the password.
const VERIFIER = scramVerifier(PASSWORD, SCRAM_ITERATIONS, randomBytes(SCRAM_SALT_BYTES));
// The container health check's own login (infra/pooler/index.ts): alphanumeric, like a RandomPassword without specials.
const HEALTH_PASSWORD = randomBytes(24).toString("hex");
const HEALTH_VERIFIER = scramVerifier(HEALTH_PASSWORD, SCRAM_ITERATIONS, randomBytes(SCRAM_SALT_BYTES));

let root = "";
let dbPort = 0;
const bouncers: Background[] = [];
const leases: PortLease[] = [];

// Through the kit's process runner (src/proc/run.ts), as the stack's OS user where a server is involved.
function sh(cmd: string, args: string[], opts: { user?: boolean; env?: NodeJS.ProcessEnv } = {}) {
  const r = runSync(cmd, args, { env: opts.env, osUser: opts.user ? osUser : null });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** A free port outside the ephemeral range, locked for this run (src/proc/ports.ts). */
async function freePort(): Promise<number> {
  const lease = await reservePorts(1);
  leases.push(lease);
  return lease.ports[0];
}

async function waitForPort(port: number, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((res) => {
      const c = createConnection({ host: "127.0.0.1", port }, () => (c.end(), res(true))).on("error", () => res(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${port}`);
}

/** A CA and a certificate for `host` signed by it, ECDSA P-256, like infra/pooler/tls.ts. */
function makeCa(dir: string, name: string, host: string) {
  const p = (f: string) => join(dir, `${name}-${f}`);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  sh("openssl", ["req", "-x509", ...ec, "-keyout", p("ca.key"), "-out", p("ca.crt"), "-days", "2", "-subj", `/CN=${name} CA`, "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
  sh("openssl", ["req", ...ec, "-keyout", p("server.key"), "-out", p("server.csr"), "-subj", `/CN=${name} server`]);
  writeFileSync(p("ext"), `subjectAltName=DNS:${host}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n`);
  sh("openssl", ["x509", "-req", "-in", p("server.csr"), "-CA", p("ca.crt"), "-CAkey", p("ca.key"), "-CAcreateserial", "-days", "2", "-extfile", p("ext"), "-out", p("server.crt")]);
  return { ca: p("ca.crt"), cert: p("server.crt"), key: p("server.key") };
}

const read = (path: string) => readFileSync(path, "utf8");

/** SQL as the throwaway cluster's superuser, over verified TLS. */
const admin = (sql: string, db = "pgkit") =>
  sh("psql", ["-v", "ON_ERROR_STOP=1", "-Atc", sql, `host=localhost port=${dbPort} dbname=${db} user=postgres sslmode=verify-full sslrootcert=${join(root, "rds-ca.crt")}`], {
    env: { PGPASSWORD: SUPERUSER_PASSWORD },
  }).trim();

/** Starts PgBouncer through the task's entrypoint, with the task's files as environment variables. */
async function startPooler(
  dbHost: string,
  serverCa: string,
  client: { cert: string; key: string },
  verifier = VERIFIER,
  healthPassword = HEALTH_PASSWORD,
  serverPort = dbPort,
): Promise<{ port: number; runDir: string; log: () => string }> {
  const listenPort = await freePort();
  const runDir = join(root, `run-${listenPort}`);
  const ini = renderPgbouncerIni({ dbHost, dbPort: serverPort, dbName: "pgkit", listenPort, defaultPoolSize: 5, maxClientConn: 100, maxDbConnections: 10, runDir })
    .replace("listen_addr = 0.0.0.0", "listen_addr = 127.0.0.1")
    // the distribution's PgBouncer predates this setting (1.21); the image's has it
    .replace(/^max_prepared_statements = .*$/m, "");
  const files: Record<ContainerFile, string> = {
    ini,
    authFile: renderAuthFile([{ name: LOGIN, verifier }, { name: HEALTH_LOGIN, verifier: HEALTH_VERIFIER }]),
    serverCa: read(serverCa),
    clientTlsCert: read(client.cert),
    clientTlsKey: read(client.key),
    healthPgpass: healthPgpassLine(healthPassword),
  };
  const env = Object.fromEntries((Object.keys(CONTAINER_FILES) as ContainerFile[]).map((f) => [CONTAINER_FILES[f].env, files[f]]));
  const child = runInBackground("/bin/sh", ["-c", entrypointScript(runDir)], {
    env: { PATH: `${join(pgbouncer ?? "", "..")}:/usr/bin:/bin`, ...env },
    cwd: root,
    osUser,
  });
  bouncers.push(child);
  try {
    await waitForPort(listenPort);
  } catch (e) {
    throw new Error(`PgBouncer did not start: ${String(e)}\n${child.output()}`);
  }
  return { port: listenPort, runDir, log: () => child.output() };
}

/** PgBouncer's log once it shows `pattern` (its output reaches the pipe with a delay), or what it has after `ms`. */
async function logShowing(bouncer: { log: () => string }, pattern: RegExp, ms = 15_000): Promise<string> {
  const until = Date.now() + ms;
  while (!pattern.test(bouncer.log()) && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
  return bouncer.log();
}

/** psql (libpq) through the pooler with the given sslmode; returns output or the error text. */
function psql(port: number, conninfo: string, sql: string, password = PASSWORD, timeoutSeconds = 10): { ok: boolean; out: string } {
  const r = runSync("psql", ["-Atc", sql, `host=localhost port=${port} dbname=pgkit user=${LOGIN} ${conninfo}`], {
    env: { PGPASSWORD: password, PGCONNECT_TIMEOUT: String(timeoutSeconds) },
  });
  return { ok: r.code === 0, out: `${r.stdout}${r.stderr}`.trim() };
}

/** The task definition's health check command, run as the container would run it (`/bin/sh -c`, as PgBouncer's user). */
function healthCheck(runDir: string, port: number): { ok: boolean; out: string } {
  const r = runSync("/bin/sh", ["-c", healthCheckCommand(runDir, port)], { osUser, env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" }, timeoutMs: 15_000 });
  return { ok: r.code === 0, out: `${r.stdout}${r.stderr}`.trim() };
}

describe.skipIf(!available)("pooler: SCRAM pass-through and TLS on every hop, with real PostgreSQL and PgBouncer", () => {
  let goodPooler = 0;
  let goodRunDir = "";
  let goodLog: () => string = () => "";
  let poolerCa = "";
  let pooler: { cert: string; key: string };

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "pgkit-pooler-e2e-"));
    const rds = makeCa(root, "rds", "localhost");
    const pooled = makeCa(root, "pooler", "localhost");
    poolerCa = pooled.ca;
    pooler = pooled;
    writeFileSync(join(root, "rds-ca.crt"), read(rds.ca));
    writeFileSync(join(root, "pw"), `${SUPERUSER_PASSWORD}\n`);
    if (ids) for (const f of ["", ...readdirSync(root)]) chownSync(join(root, f), ids.uid, ids.gid);

    dbPort = await freePort();
    const data = join(root, "data");
    sh(join(pgBinDir, "initdb"), ["-D", data, "-U", "postgres", "--auth=scram-sha-256", `--pwfile=${join(root, "pw")}`], { user: true });
    // Like RDS with rds.force_ssl = 1: TLS and SCRAM only.
    writeFileSync(join(data, "pg_hba.conf"), "hostssl all all 127.0.0.1/32 scram-sha-256\nhostssl all all ::1/128 scram-sha-256\n");
    writeFileSync(
      join(data, "postgresql.auto.conf"),
      [`port = ${dbPort}`, "listen_addresses = 'localhost'", `unix_socket_directories = '${root}'`, "ssl = on", `ssl_cert_file = '${rds.cert}'`, `ssl_key_file = '${rds.key}'`, "password_encryption = 'scram-sha-256'"].join("\n"),
    );
    if (ids) for (const f of ["pg_hba.conf", "postgresql.auto.conf"]) chownSync(join(data, f), ids.uid, ids.gid);
    sh(join(pgBinDir, "pg_ctl"), ["start", "-w", "-D", data, "-l", join(root, "pg.log")], { user: true });

    admin("CREATE DATABASE pgkit", "postgres");
    admin(`CREATE ROLE ${LOGIN} LOGIN PASSWORD '${VERIFIER}'`);
    ({ port: goodPooler, runDir: goodRunDir, log: goodLog } = await startPooler("localhost", rds.ca, pooled));
  }, 120_000);

  afterAll(async () => {
    for (const b of bouncers) await b.stop();
    if (root && existsSync(join(root, "data"))) runSync(join(pgBinDir, "pg_ctl"), ["stop", "-m", "immediate", "-w", "-D", join(root, "data")], { osUser });
    if (root) rmSync(root, { recursive: true, force: true });
    for (const l of leases) l.release();
  });

  it("the role holds the verifier exactly (PostgreSQL stored the SCRAM string as given)", () => {
    const stored = admin(`SELECT rolpassword FROM pg_authid WHERE rolname = '${LOGIN}'`);
    expect(stored).toBe(VERIFIER);
    expect(stored).not.toContain(PASSWORD);
  });

  it("a client with sslmode=verify-full and the pooler's CA logs in; PgBouncer reaches the server over TLS as that login", () => {
    const r = psql(goodPooler, `sslmode=verify-full sslrootcert=${poolerCa}`, "SELECT current_user || ' ' || ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
    expect(r).toEqual({ ok: true, out: `${LOGIN} true` });
  });

  it("a client with sslmode=require logs in", () => {
    expect(psql(goodPooler, "sslmode=require", "SELECT 1")).toEqual({ ok: true, out: "1" });
  });

  it("a client without TLS is refused", () => {
    const r = psql(goodPooler, "sslmode=disable", "SELECT 1");
    expect(r.ok).toBe(false);
    expect(r.out).toMatch(/SSL required|server requires SSL|TLS|ssl/i);
  });

  it("a wrong password is refused, and verify-full against another CA fails", () => {
    expect(psql(goodPooler, "sslmode=require", "SELECT 1", "not-the-password").ok).toBe(false);
    const rdsCaOnly = psql(goodPooler, `sslmode=verify-full sslrootcert=${join(root, "rds-ca.crt")}`, "SELECT 1", PASSWORD, 3);
    expect(rdsCaOnly.ok).toBe(false);
    expect(rdsCaOnly.out).toMatch(/certificate verify failed/);
  });

  it("verify-full to the server: PgBouncer refuses a server whose certificate does not name the host it dialled", async () => {
    // 127.0.0.1 is the same server, but its certificate names only "localhost"
    const bouncer = await startPooler("127.0.0.1", join(root, "rds-ca.crt"), pooler);
    expect(psql(bouncer.port, "sslmode=require", "SELECT 1", PASSWORD, 3).ok).toBe(false);
    expect(await logShowing(bouncer, /not present in server certificate/)).toContain("TLS handshake error: name `127.0.0.1' not present in server certificate");
  });

  it("verify-full to the server: PgBouncer refuses a server certificate from another CA", async () => {
    const bouncer = await startPooler("localhost", poolerCa, pooler);
    expect(psql(bouncer.port, "sslmode=require", "SELECT 1", PASSWORD, 3).ok).toBe(false);
    expect(await logShowing(bouncer, /certificate verify failed/)).toMatch(/TLS handshake error: .*certificate verify failed/);
  });

  it("pass-through needs the server's own verifier: one of the same password with another salt logs the client in to PgBouncer but not to the server", async () => {
    // Why the salt is a resource in state (infra/credentials.ts) and not drawn again on each run.
    const resalted = scramVerifier(PASSWORD, SCRAM_ITERATIONS, randomBytes(SCRAM_SALT_BYTES));
    const bouncer = await startPooler("localhost", join(root, "rds-ca.crt"), pooler, resalted);
    const r = psql(bouncer.port, "sslmode=require", "SELECT 1", PASSWORD, 3);
    expect(r.ok).toBe(false);
    expect(r.out).not.toMatch(/SASL authentication failed/); // PgBouncer accepted the client...
    expect(await logShowing(bouncer, /server login failed/)).toMatch(/server login failed: FATAL password authentication failed for user "pgkit_app_login"/); // ...RDS's stand-in refused PgBouncer
  });

  it("PgBouncer's log holds no password, verifier or key", async () => {
    const log = await logShowing({ log: goodLog }, /SASL authentication failed/);
    expect(log).toContain("SASL authentication failed"); // the log was captured (the wrong-password test ran)
    for (const secret of [PASSWORD, HEALTH_PASSWORD, VERIFIER.split("$")[2], HEALTH_VERIFIER.split("$")[2], read(pooler.key).split("\n")[1]]) expect(log).not.toContain(secret);
  });

  it("the container health check logs in through PgBouncer (TLS, SCRAM, admin console) and passes", () => {
    expect(healthCheck(goodRunDir, goodPooler)).toEqual({ ok: true, out: "" });
  });

  it("the health check fails when the login fails, where a TCP check would pass", async () => {
    // the auth_file holds the health login's verifier, but the task got another password: logins are broken
    const bouncer = await startPooler("localhost", join(root, "rds-ca.crt"), pooler, VERIFIER, "0123456789abcdef0123456789abcdef");
    await waitForPort(bouncer.port); // TCP is up
    const r = healthCheck(bouncer.runDir, bouncer.port);
    expect(r.ok).toBe(false);
    expect(r.out).toMatch(/password authentication failed|SASL authentication failed/);
  });

  it("the health check does not depend on the server: it passes while PostgreSQL is unreachable", async () => {
    // the ini names a server port where nothing listens (reserved, never bound)
    const unreachable = await startPooler("localhost", join(root, "rds-ca.crt"), pooler, VERIFIER, HEALTH_PASSWORD, await freePort());
    expect(psql(unreachable.port, "sslmode=require", "SELECT 1", PASSWORD, 3).ok).toBe(false); // no server behind it
    expect(healthCheck(unreachable.runDir, unreachable.port)).toEqual({ ok: true, out: "" });
  });

  it("the files the entrypoint wrote are private to PgBouncer's user", () => {
    const dir = join(root, `run-${goodPooler}`);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const f of readdirSync(dir)) expect(statSync(join(dir, f)).mode & 0o777, f).toBe(0o600);
  });
});
