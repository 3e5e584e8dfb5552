// The whole PgBouncer configuration of the AWS pooler, in one place.
// The rendered ini holds no secret. The auth_file (the pooled logins' SCRAM verifiers) and the private
// key of the client-facing certificate reach the container as ECS secrets from Secrets Manager; the
// public files (ini, RDS CA, certificate) come through the task definition's environment. The entrypoint
// writes each to a private file at start (see entrypointScript).

export interface PgbouncerIniOptions {
  /** RDS primary endpoint, and the read replicas' endpoints behind the read-only alias (`<dbName>_readonly`). */
  dbHost: string;
  dbPort: number;
  dbName: string;
  replicaHosts?: string[];
  listenPort: number;
  defaultPoolSize: number;
  maxClientConn: number;
  /** Per task: all tasks together must stay below the server's max_connections. */
  maxDbConnections: number;
  /** DISCARD ALL after every transaction: also clears held cursors, LISTEN, prepared statements, advisory locks, SET ROLE and settings a client left (docs/security.md), at about half the pooler's throughput on short transactions (pgbench -S: 0.35 against 0.75 of direct, same run) and it drops cached plans, so app.search_embeddings is planned again in every transaction (docs/loadtests.md). */
  resetAfterTransaction?: boolean;
  /** Folder of the files the entrypoint writes (tests run the entrypoint in a temp folder). */
  runDir?: string;
}

/**
 * The login the container health check uses: in the auth_file (its own SCRAM verifier) and in stats_users, so it may
 * log in to PgBouncer's admin console (the virtual database `pgbouncer`) and run SHOW commands. It never exists on the
 * server, so it reaches no data; PgBouncer authenticates it itself.
 */
export const HEALTH_LOGIN = "pgkit_pooler_health";

export const PGBOUNCER_PORT = 6432;

/** The pooler's read-only alias of the database, reaching the read replicas (as `<db>_readonly` does locally). */
export const readonlyDatabaseName = (dbName: string) => `${dbName}_readonly`;
/** Inside the container: written by the entrypoint (umask 077), readable only by the pgbouncer process's user. */
export const RUN_DIR = "/tmp/pgbouncer";

/** The files the entrypoint writes, each from one environment variable of the container. */
export const CONTAINER_FILES = {
  /** The rendered ini (task definition environment: no secret in it). */
  ini: { env: "PGBOUNCER_INI", file: "pgbouncer.ini" },
  /** `"role" "SCRAM-SHA-256$..."` lines (ECS secret from Secrets Manager). */
  authFile: { env: "PGBOUNCER_AUTH_FILE", file: "userlist.txt" },
  /** The region's RDS CA certificates (public: task definition environment; infra/pooler/rdsCa.ts). */
  serverCa: { env: "PGBOUNCER_SERVER_CA", file: "rds-ca.pem" },
  /** The certificate PgBouncer presents to clients (public: task definition environment; infra/pooler/tls.ts). */
  clientTlsCert: { env: "PGBOUNCER_CLIENT_TLS_CERT", file: "client-tls.crt" },
  /** Its private key (ECS secret from Secrets Manager). */
  clientTlsKey: { env: "PGBOUNCER_CLIENT_TLS_KEY", file: "client-tls.key" },
  /** The health login's password as a libpq password file line (ECS secret from Secrets Manager; 0600, as libpq requires). */
  healthPgpass: { env: "PGBOUNCER_HEALTH_PGPASS", file: "health.pgpass" },
} as const;
export type ContainerFile = keyof typeof CONTAINER_FILES;

export const containerPath = (f: ContainerFile, runDir = RUN_DIR) => `${runDir}/${CONTAINER_FILES[f].file}`;

/**
 * PgBouncer's auth_file: one `"user" "SCRAM-SHA-256$<iter>:<salt>$<storedkey>:<serverkey>"` line per pooled
 * login (format: pgbouncer doc/config.md, "Authentication file format"). The verifiers must be the very
 * ones the server holds (same salt and iterations), and the [databases] entries must not name a user: then
 * PgBouncer logs in to the server with the client's own SCRAM proof ("SCRAM secrets can only be used for
 * logging into a server if the client authentication also uses SCRAM, the PgBouncer database definition
 * does not specify a user name, and the SCRAM secrets are identical in PgBouncer and the PostgreSQL
 * server", same section, "Limitations"; github.com/pgbouncer/pgbouncer doc/config.md).
 */
export function renderAuthFile(logins: { name: string; verifier: string }[]): string {
  if (logins.length === 0) throw new Error("PgBouncer auth_file: no pooled login");
  return logins
    .map(({ name, verifier }) => {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`PgBouncer auth_file: role name '${name}' is not a plain identifier`);
      // A verifier is base64, digits, '$' and ':'; anything else (a quote, a newline, a plaintext password) is refused.
      if (!/^SCRAM-SHA-256\$\d+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/.test(verifier)) {
        throw new Error(`PgBouncer auth_file: the entry for '${name}' is not a SCRAM-SHA-256 verifier`);
      }
      return `"${name}" "${verifier}"\n`;
    })
    .join("");
}

export function renderPgbouncerIni(o: PgbouncerIniOptions): string {
  const runDir = o.runDir ?? RUN_DIR;
  // No user= here: SCRAM pass-through needs the client's own login (see renderAuthFile).
  const server = (host: string) => `host=${host} port=${o.dbPort} dbname=${o.dbName}`;
  const lines = [
    "[databases]",
    // Clients name the logical database; the pooler always connects to the RDS endpoint over TLS.
    `${o.dbName} = ${server(o.dbHost)}`,
    // The service's read endpoint (readDatabaseName): every replica, a new server connection going to the next
    // host in turn (PgBouncer's multi-host round robin, 1.17+), so reads spread over them. Checked against
    // github.com/pgbouncer/pgbouncer pull 736 (load_balance_hosts): "PgBouncer's default behavior is to round-robin
    // between comma-separated hosts on each new connection attempt"; not run against PgBouncer 1.24 here.
    ...(o.replicaHosts?.length ? [`${readonlyDatabaseName(o.dbName)} = ${server(o.replicaHosts.join(","))}`] : []),
    "",
    "[pgbouncer]",
    `listen_addr = 0.0.0.0`,
    `listen_port = ${o.listenPort}`,
    // No unix socket: the container's filesystem is disposable and nothing local connects.
    "unix_socket_dir =",
    "",
    "; --- authentication -------------------------------------------------------",
    // Clients authenticate with SCRAM against the auth_file: the pooled logins' verifiers, identical to
    // the server's, so PgBouncer passes the client's SCRAM proof through to RDS. No auth_user/auth_query:
    // on RDS no role may read pg_authid/pg_shadow, so a lookup function cannot work there. Only the
    // logins in the file can use the pooler (admin logins are never in it).
    "auth_type = scram-sha-256",
    `auth_file = ${containerPath("authFile", runDir)}`,
    // The container health check logs in as this read-only console user (healthCheckCommand); no admin_users.
    `stats_users = ${HEALTH_LOGIN}`,
    "",
    "; --- pooling --------------------------------------------------------------",
    // Transaction pooling: a server connection is held only for the length of a transaction, so
    // session state must be set per transaction (set_config(..., true) for app.org_id / app.user_id).
    "pool_mode = transaction",
    // Protocol-level prepared statements survive transaction pooling (PgBouncer >= 1.21).
    "max_prepared_statements = 200",
    `default_pool_size = ${o.defaultPoolSize}`,
    "min_pool_size = 0",
    // By default no reset between transactions: a session-level SET one client leaves on a server connection
    // (say, a spoofed app.org_id, or encryption keys) cannot act for the next, because the request context and
    // the keys count only in the transaction that stamped them (sql/0800, sql/0840); the reset costs a round
    // trip per transaction. poolerResetAfterTransaction turns DISCARD ALL on for clients that may use session
    // features (held cursors, LISTEN, session SETs), which transaction pooling does not support anyway.
    "server_reset_query = DISCARD ALL",
    `server_reset_query_always = ${o.resetAfterTransaction ? 1 : 0}`,
    "reserve_pool_size = 5",
    "reserve_pool_timeout = 3",
    `max_client_conn = ${o.maxClientConn}`,
    `max_db_connections = ${o.maxDbConnections}`,
    // JDBC and some drivers send it; harmless to ignore.
    "ignore_startup_parameters = extra_float_digits",
    "",
    "; --- timeouts -------------------------------------------------------------",
    // Recycle server connections so RDS failovers and parameter changes are picked up.
    "server_lifetime = 3600",
    "server_idle_timeout = 600",
    // Fail fast instead of queueing forever when the pool is exhausted.
    "query_wait_timeout = 30",
    // Above every role's statement_timeout (sql/1000: at most 5min, the worker's): a backstop, not the limit.
    "query_timeout = 330",
    // An idle open transaction pins a server connection; the server also kills it after 60 s.
    "idle_transaction_timeout = 60",
    "server_connect_timeout = 5",
    "tcp_keepalive = 1",
    "",
    "; --- TLS ------------------------------------------------------------------",
    // TLS to RDS (rds.force_ssl = 1 refuses anything else), verified: the certificate must chain to the
    // region's RDS CA and name the endpoint (verify-full: "Server host name must match certificate
    // information", pgbouncer doc/config.md, server_tls_sslmode). The pooled logins' SCRAM proofs travel
    // on this hop, so it must not be open to a man in the middle.
    "server_tls_sslmode = verify-full",
    `server_tls_ca_file = ${containerPath("serverCa", runDir)}`,
    "server_tls_protocols = secure",
    // Client side: TLS or nothing ("require: Client must use TLS. If not, the client connection is rejected",
    // pgbouncer doc/config.md, client_tls_sslmode). The NLB passes TCP through, so TLS runs from the client to
    // PgBouncer; clients verify the certificate with the stack output poolerCaCertPem (sslmode=verify-full).
    "client_tls_sslmode = require",
    `client_tls_cert_file = ${containerPath("clientTlsCert", runDir)}`,
    `client_tls_key_file = ${containerPath("clientTlsKey", runDir)}`,
    "client_tls_protocols = secure",
    "",
    "; --- logging --------------------------------------------------------------",
    // stdout goes to CloudWatch Logs through the awslogs driver.
    "log_connections = 0",
    "log_disconnections = 0",
    "log_pooler_errors = 1",
    "stats_period = 60",
    "",
  ];
  return lines.join("\n");
}

/**
 * Container entrypoint: write each CONTAINER_FILES variable into a private folder (umask 077: files 0600,
 * folder 0700), unset it, then exec PgBouncer in the foreground. Plain POSIX sh so it runs in the
 * Alpine-based image. Values are written with `printf`, a shell builtin in ash and dash, so they never
 * stand in a process's argument list, and nothing is echoed (no `set -x`; a missing variable is reported
 * by name only). Unsetting keeps the secrets out of PgBouncer's environment (/proc/<pid>/environ).
 */
export function entrypointScript(runDir = RUN_DIR): string {
  const quoted = (path: string) => `'${path.replace(/'/g, "'\\''")}'`;
  const files = Object.keys(CONTAINER_FILES) as ContainerFile[];
  return [
    "set -eu",
    "umask 077",
    `mkdir -p ${quoted(runDir)}`,
    `chmod 700 ${quoted(runDir)}`,
    "write() {",
    '  eval "value=\\"\\${$1:-}\\""',
    '  if [ -z "$value" ]; then echo "pgbouncer entrypoint: $1 is empty or unset" >&2; exit 1; fi',
    "  printf '%s\\n' \"$value\" > \"$2\"",
    "  value=",
    '  unset "$1"',
    "}",
    ...files.map((f) => `write ${CONTAINER_FILES[f].env} ${quoted(containerPath(f, runDir))}`),
    `exec pgbouncer ${quoted(containerPath("ini", runDir))}`,
  ].join("\n");
}

/** The entrypoint the task runs (`/bin/sh -c`). */
export const ENTRYPOINT_SCRIPT = entrypointScript();

/** The libpq password file line of the health login (`\\` and `:` escaped, libpq "The Password File"; a newline is refused). */
export function healthPgpassLine(password: string): string {
  if (/[\r\n]/.test(password)) throw new Error("health login password: no line breaks");
  return `*:*:pgbouncer:${HEALTH_LOGIN}:${password.replace(/[\\:]/g, (c) => `\\${c}`)}`;
}

/**
 * The container health check (ECS `CMD-SHELL`, run inside the container as its user): a real login through PgBouncer,
 * over TLS (client_tls_sslmode = require) with SCRAM against the auth_file, to the admin console, and one SHOW command.
 * A TCP connect would pass while logins fail (a broken auth_file, a missing certificate or key); this does not. It does
 * not touch RDS, so the pooler stays healthy while the database restarts or before its logins exist (phase 1 of a
 * deployment). The image ships psql (edoburu/docker-pgbouncer v1.24.1-p1 Dockerfile: `apk add … postgresql-client`).
 * test/infra/pooler-tls-scram.test.ts runs this command against a real PgBouncer started by the entrypoint.
 */
export function healthCheckCommand(runDir = RUN_DIR, port = 6432): string {
  const conninfo = `host=127.0.0.1 port=${port} dbname=pgbouncer user=${HEALTH_LOGIN} sslmode=require connect_timeout=3`;
  return `PGPASSFILE='${containerPath("healthPgpass", runDir)}' psql -XAtq -d '${conninfo}' -c 'SHOW VERSION' > /dev/null`;
}
