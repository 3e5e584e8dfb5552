// The whole PgBouncer configuration of the AWS pooler, in one place.
// The rendered file holds no secret: the auth_user's password reaches the container as an ECS
// secret (from Secrets Manager) and is written to the auth_file at start (see ENTRYPOINT_SCRIPT).

export interface PgbouncerIniOptions {
  /** RDS primary endpoint (and optional replica for the read-only alias). */
  dbHost: string;
  dbPort: number;
  dbName: string;
  replicaHost?: string;
  authUser: string;
  listenPort: number;
  defaultPoolSize: number;
  maxClientConn: number;
  /** Per task: all tasks together must stay below the server's max_connections. */
  maxDbConnections: number;
  /** DISCARD ALL after every transaction: also clears held cursors, LISTEN, prepared statements, advisory locks, SET ROLE and settings a client left (docs/security.md), at about half the pooler's throughput on short transactions (pgbench -S: 0.35 against 0.75 of direct, same run) and it drops cached plans, so app.search_embeddings is planned again in every transaction (docs/loadtests.md). */
  resetAfterTransaction?: boolean;
}

export const PGBOUNCER_PORT = 6432;
export const PGBOUNCER_AUTH_USER = "pgkit_pgbouncer";
/** Inside the container; written by the entrypoint, readable only by the pgbouncer process. */
export const INI_PATH = "/tmp/pgbouncer/pgbouncer.ini";
export const AUTH_FILE_PATH = "/tmp/pgbouncer/userlist.txt";

export function renderPgbouncerIni(o: PgbouncerIniOptions): string {
  const server = (host: string) => `host=${host} port=${o.dbPort} dbname=${o.dbName}`;
  const lines = [
    "[databases]",
    // Clients name the logical database; the pooler always connects to the RDS endpoint over TLS.
    `${o.dbName} = ${server(o.dbHost)}`,
    ...(o.replicaHost ? [`${o.dbName}_readonly = ${server(o.replicaHost)}`] : []),
    "",
    "[pgbouncer]",
    `listen_addr = 0.0.0.0`,
    `listen_port = ${o.listenPort}`,
    // No unix socket: the container's filesystem is disposable and nothing local connects.
    "unix_socket_dir =",
    "",
    "; --- authentication -------------------------------------------------------",
    // Clients authenticate with SCRAM; PgBouncer fetches each login role's verifier through the
    // SECURITY DEFINER lookup in sql/0003 (refuses superusers), so no user list of app roles exists.
    "auth_type = scram-sha-256",
    `auth_user = ${o.authUser}`,
    `auth_dbname = ${o.dbName}`,
    "auth_query = SELECT usename, passwd FROM pgbouncer.user_lookup($1)",
    // Holds only the auth_user's own password (written from the ECS secret at start).
    `auth_file = ${AUTH_FILE_PATH}`,
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
    // An idle open transaction pins a server connection; the server also kills it after 60 s.
    "idle_transaction_timeout = 60",
    "server_connect_timeout = 5",
    "tcp_keepalive = 1",
    "",
    "; --- TLS ------------------------------------------------------------------",
    // TLS to RDS (rds.force_ssl=1 refuses anything else). `require` encrypts without verifying the
    // RDS CA, which the image does not ship; switch to verify-full with server_tls_ca_file once a
    // CA bundle is baked into (or mounted in) the image.
    "server_tls_sslmode = require",
    "server_tls_protocols = secure",
    // Client side: traffic stays inside the VPC behind security groups (the NLB passes TCP through).
    "client_tls_sslmode = disable",
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
 * Container entrypoint: write the rendered ini (from PGBOUNCER_INI) and the auth_file (from the
 * PGBOUNCER_AUTH_PASSWORD secret) into a private folder, then exec PgBouncer in the foreground.
 * Plain POSIX sh so it runs in the Alpine-based image.
 */
export const ENTRYPOINT_SCRIPT = [
  "set -eu",
  "umask 077",
  "mkdir -p /tmp/pgbouncer",
  `printf '%s\\n' "$PGBOUNCER_INI" > ${INI_PATH}`,
  `printf '"%s" "%s"\\n' "${PGBOUNCER_AUTH_USER}" "$PGBOUNCER_AUTH_PASSWORD" > ${AUTH_FILE_PATH}`,
  "unset PGBOUNCER_AUTH_PASSWORD",
  `exec pgbouncer ${INI_PATH}`,
].join("\n");
