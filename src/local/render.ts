// The local stack's configuration files, rendered from the stack config. Every setting says why it is there.
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import type { StackConfig } from '../config.js';
import { PG_INSTALL, pgBinDir, stackPaths } from '../config.js';
import { renderStandInConf } from './platform.js';
import { parallelMaintenancePlan, shmFreeBytes } from './shm.js';

const MB = 1024 * 1024;

function clampMb(bytes: number, minMb: number, maxMb: number): string {
  return `${Math.max(minMb, Math.min(maxMb, Math.floor(bytes / MB)))}MB`;
}

/** postgresql.conf additions (included from the data directory's postgresql.conf). */
export function renderPostgresConf(cfg: StackConfig): string {
  const p = stackPaths(cfg);
  const ram = totalmem();
  const cores = availableParallelism();
  const maintenanceWorkMem = clampMb(ram / 16, 128, 1024);
  // A parallel HNSW build (or REINDEX) puts maintenance_work_mem in /dev/shm: none where it does not fit (src/local/shm.ts).
  const parallel = parallelMaintenancePlan(shmFreeBytes(), Number.parseInt(maintenanceWorkMem, 10) * MB, Math.max(1, Math.min(4, cores)));
  // The pgBackRest that supports this major (src/config.ts PG_INSTALL): on 17, not the one on the PATH.
  const backrest = `${PG_INSTALL.pgbackrest} --config=${p.backrestConf} --stanza=${cfg.stanza}`;
  return `# Written by pgkit on every start: edit src/local/render.ts, not this file.
listen_addresses = '${cfg.host}'
port = ${cfg.pgPort}
unix_socket_directories = '${p.run}'   # private socket folder; TCP is what clients use
password_encryption = 'scram-sha-256'
# TLS for direct TCP clients, with the certificate the stack generates (src/local/tls.ts); RDS offers TLS too.
ssl = on
ssl_cert_file = '${p.tlsCert}'
ssl_key_file = '${p.tlsKey}'
ssl_min_protocol_version = 'TLSv1.2'

# Preloaded: query statistics (seed 000 P2 "query performance monitoring"), the scheduler, and pgextwlist (the
# RDS stand-in's extension allow-list: the admin, not a superuser, creates the extensions RDS supports).
shared_preload_libraries = 'pg_stat_statements,pg_cron,pgextwlist'
${renderStandInConf(p.extwlistDir)}
pg_stat_statements.track = all
cron.database_name = '${cfg.database}'
# Jobs run in background workers: no libpq login (and no password) needed for pg_cron.
cron.use_background_workers = on
max_worker_processes = 24

# Memory: a laptop or a shared CI box also runs the test stack, PgBouncer and load generators, so the
# buffer cache takes 1/6 of RAM (within 128MB..4GB) and leaves the rest to the OS page cache. At full load-test
# scale the embeddings table and its HNSW index are ~1.2 GB (~1.6 GB before sql/0830): with 1 GB of buffers every bulk insert evicted
# (and wrote) ~100 dirty pages itself and the graph walks read from the OS cache (docs/loadtests.md).
# Shared memory is only taken as pages are used, so a small database does not hold 4 GB.
shared_buffers = ${clampMb(ram / 6, 128, 4096)}
effective_cache_size = ${clampMb(ram / 2, 512, 8192)}
work_mem = 16MB
# HNSW builds are much faster when the graph fits in maintenance_work_mem.
maintenance_work_mem = ${maintenanceWorkMem}
max_connections = 200                  # PgBouncer fronts the app; direct connections are for admin and tests
max_parallel_workers_per_gather = ${Math.max(1, Math.min(4, cores - 1))}
# ${parallel.reason}
max_parallel_maintenance_workers = ${parallel.workers}
random_page_cost = 1.1                 # local SSD
jit = off                              # short OLTP queries: JIT compilation costs more than it saves

# WAL: archived by pgBackRest so the drills can restore to any point in time.
wal_level = replica
# lz4 rather than pglz (on): full-page images of HNSW pages (float data) barely compress, and pglz spent the
# CPU anyway. Bulk insert of 100 embeddings right after a checkpoint, 6 samples each (docs/loadtests.md): pglz
# 142-308 ms, lz4 135-236 ms, off 126-206 ms, with the same WAL volume; lz4 still compresses text pages.
wal_compression = lz4
max_wal_size = 2GB
checkpoint_timeout = 5min
archive_mode = ${cfg.archive ? 'on' : 'off'}
archive_command = '${cfg.archive ? `${backrest} archive-push %p` : ''}'
# A partly filled WAL segment is switched at most 5 s after its first write and pushed asynchronously,
# so a commit reaches the pgBackRest repository within ~5-6 s: the local RPO goal is <= 10 s (issue 8; the
# drill measures it). 10 s here would put the worst case just over the goal once the push time is added.
archive_timeout = 5s
# Streaming replication to the stack's read replica (src/local/replica.ts; npm start -- --replica): it holds a
# physical slot, so the primary keeps the WAL it has not received. A replica left stopped must not fill the
# disk: past this the slot is given up and the replica catches up from the pgBackRest archive (restore_command).
max_wal_senders = 10
max_replication_slots = 10
max_slot_wal_keep_size = 4GB

# Observability: slow statements, lock waits, autovacuum and checkpoints in the log.
logging_collector = off
log_min_duration_statement = 250ms
log_lock_waits = on
log_autovacuum_min_duration = 1s
log_checkpoints = on
log_line_prefix = '%m [%p] %q%u@%d '
# No bind parameter values in the log (slow statements and errors): they carry keyrings, tokens and personal
# data (issue 12: a slow set_config('app.enc_keys', $1, true) wrote the keyring into the log). The RDS parameter
# group sets the same (infra/database.ts).
log_parameter_max_length = 0
log_parameter_max_length_on_error = 0
track_io_timing = on

# Safety nets for stuck sessions.
idle_in_transaction_session_timeout = 5min
timezone = 'UTC'
`;
}

/**
 * SCRAM over TCP from loopback and over the private socket (PgBouncer's server connections), and the server's own
 * OS user over the socket as the superuser (pgBackRest).
 */
export function renderHba(): string {
  return `# Written by pgkit on every start.
# TYPE  DATABASE  USER      ADDRESS        METHOD
local   all       postgres                 peer map=pgkit
# The read replica streams WAL over the private socket as a role that can do nothing else (src/local/replica.ts).
local   replication ${REPLICATION_ROLE}  peer map=pgkit
local   all       all                      scram-sha-256
host    all       all       127.0.0.1/32   scram-sha-256
host    all       all       ::1/128        scram-sha-256
`;
}

/** The OS user running the server may log in over the socket as the superuser (peer auth), nobody else. */
export function renderIdent(osUserName: string): string {
  return `# Written by pgkit on every start.
# MAPNAME  SYSTEM-USERNAME  PG-USERNAME
pgkit      ${osUserName}            postgres
pgkit      ${osUserName}            ${REPLICATION_ROLE}
`;
}

/** The login the read replica streams as: REPLICATION, no password, reachable only by peer auth over the socket. */
export const REPLICATION_ROLE = 'pgkit_replicator';
/** The replica's name on the primary: its application_name, its slot, and what synchronous_standby_names lists. */
export const REPLICA_NAME = 'pgkit_replica';
/** The PgBouncer database name that reaches the replica's copy of `database` (as infra/pooler does on AWS). */
export const readonlyDatabase = (database: string) => `${database}_readonly`;
/** The databases given a read-only entry: the stack's own and the load-test one (`npm run seed` makes pgkit_load). */
export const replicatedDatabases = (cfg: StackConfig) => [cfg.database, `${cfg.database}_load`];

/** With a replica, `<db>_readonly` reaches the replica's copy of <db> (over its own socket); read-only, like the replica. */
export function renderReadonlyEntries(cfg: StackConfig): string {
  if (!cfg.replica) return '';
  const p = stackPaths(cfg);
  return [
    '; The read replica (npm start -- --replica): a hot standby, so every transaction here is read-only.',
    ...replicatedDatabases(cfg).map((db) => `${readonlyDatabase(db)} = host=${p.replicaRun} port=${cfg.replicaPort} dbname=${db}`),
    '',
  ].join('\n');
}

export function renderPgbouncerIni(cfg: StackConfig): string {
  const p = stackPaths(cfg);
  return `; Written by pgkit on every start: edit src/local/render.ts, not this file.
[databases]
; Any database name is passed through to the local PostgreSQL (tests use one database per file), over its
; private Unix socket: the same machine, and a socket hop costs the pooler less than loopback TCP (measured in
; the same run, pgbench -S through PgBouncer: ~23-24k tps over the socket, ~21-22k over TCP).
* = host=${p.run} port=${cfg.pgPort}
${renderReadonlyEntries(cfg)}
[pgbouncer]
listen_addr = ${cfg.host}
listen_port = ${cfg.bouncerPort}
unix_socket_dir = ${p.run}
pidfile = ${p.bouncerPid}
logfile = ${p.log}/pgbouncer.log

; Transaction pooling: a server connection is lent for one transaction. The request context is set with
; set_config(..., true) inside each transaction, so nothing leaks between clients sharing a connection.
pool_mode = transaction
; No reset between transactions unless PGKIT_BOUNCER_RESET=1. A session-level SET left on a server connection by
; one client (say, a spoofed app.org_id, or encryption keys) cannot act for the next: the request context and the
; keys count only in the transaction that stamped them (sql/0800, sql/0840). Resetting after every transaction
; costs one more round trip each, ~half the pooler's throughput on short transactions, and the cached plans
; (app.search_embeddings is planned again in every transaction) (docs/loadtests.md);
; turn it on for clients that may leave session features behind (held cursors, LISTEN, session SETs).
server_reset_query = DISCARD ALL
server_reset_query_always = ${cfg.bouncerResetAfterTransaction ? 1 : 0}
default_pool_size = ${cfg.poolSize}
reserve_pool_size = ${cfg.reservePoolSize}
reserve_pool_timeout = 3
max_client_conn = ${cfg.maxClientConn}
server_idle_timeout = 60
query_wait_timeout = 30
; A query running longer than every role's statement_timeout (sql/1000: at most 5min, the worker's) is cut here too.
query_timeout = 330

; Authentication: the auth_file holds the SCRAM-SHA-256 verifier of each pooled login (the app, the worker) and of
; the console user, exactly as PostgreSQL holds it, so PgBouncer passes SCRAM through to the server. Nothing is
; looked up in the database (RDS closes pg_shadow even to rds_superuser, sql/0860), and a login that is not in the
; file (the admin, the superuser) cannot use the pooler: administrators connect directly.
auth_type = scram-sha-256
auth_file = ${p.bouncerUsers}

; TLS from clients, with the stack's certificate (src/local/tls.ts): sslmode=require and verify-full (CA
; ${p.tlsCa}, names 127.0.0.1 and localhost) connect. Offered, not required, on loopback, so local
; tools keep working without a CA; the pooler on AWS requires it (infra/pooler). To PostgreSQL: its private socket.
client_tls_sslmode = prefer
client_tls_key_file = ${p.tlsKey}
client_tls_cert_file = ${p.tlsCert}
client_tls_ca_file = ${p.tlsCa}
client_tls_protocols = secure

; Drivers send these at startup; PgBouncer must not reject them in transaction mode.
ignore_startup_parameters = extra_float_digits,options

admin_users = ${cfg.bouncerConsoleUser}
stats_users = ${cfg.bouncerConsoleUser}
`;
}

export function renderPgbackrestConf(cfg: StackConfig): string {
  const p = stackPaths(cfg);
  return `# Written by pgkit on every start.
[global]
repo1-path=${p.backrestRepo}
# Keep two full backups (and the differentials/incrementals and WAL that depend on them).
repo1-retention-full=2
log-path=${p.backrestLog}
# Locks are per stanza name, and every pgkit stack (local, test, drill instances) uses the stanza 'pgkit':
# with the default /tmp/pgbackrest they would block each other's backups and async archiving.
lock-path=${join(p.home, 'backrest', 'lock')}
log-level-console=warn
log-level-file=info
# Asynchronous archiving: archive-push returns fast, a background process ships WAL in parallel.
archive-async=y
spool-path=${p.backrestSpool}
process-max=2
compress-type=lz4
start-fast=y

[${cfg.stanza}]
pg1-path=${p.data}
pg1-port=${cfg.pgPort}
pg1-socket-path=${p.run}
pg1-user=postgres
pg1-database=postgres
`;
}

/**
 * The pgBackRest config of a cluster restored from the stack's repository (a scratch restore, the read replica):
 * the stack's repository, and its own logs, locks and spool, so it never meets the stack's.
 */
export function renderRestoredBackrestConf(cfg: StackConfig, c: { header: string; dir: string; data: string; port: number; socket: string; processMax: number }): string {
  return `# ${c.header}
[global]
repo1-path=${stackPaths(cfg).backrestRepo}
log-path=${join(c.dir, 'backrest-log')}
lock-path=${join(c.dir, 'backrest-lock')}
spool-path=${join(c.dir, 'backrest-spool')}
log-level-console=warn
log-level-file=info
# Synchronous archive-get: each segment is fetched when recovery asks for it.
archive-async=n
process-max=${c.processMax}

[${cfg.stanza}]
pg1-path=${c.data}
pg1-port=${c.port}
pg1-socket-path=${c.socket}
pg1-user=postgres
`;
}

export const pgBin = (name: string) => `${pgBinDir}/${name}`;
