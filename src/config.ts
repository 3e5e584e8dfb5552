// Local stack settings: one typed home for ports, folders and pool sizes, with environment overrides.
// Two stacks exist: `local` (what `npm start` runs, the user's data) and `test` (a throwaway cluster the
// test suite starts, so tests never touch the user's data).
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const sqlDir = join(repoRoot, 'sql');

/**
 * Where one PostgreSQL major's programs live on this machine: the one place that knows the install layout of
 * each tested major (scripts/setup.sh installs them; keep the two in step).
 *   15: Debian 12's packages (postgresql-15, -partman 4.7, -cron, -pgextwlist; pgbackrest 2.45; pgvector built).
 *   17: Debian 13's packages (postgresql-17 17.x, -partman 5.2, -cron 1.6, -pgvector 0.8.0, -pgextwlist,
 *       pgbackrest 2.55; Debian 12's 2.45 does not support 17), unpacked by `PGKIT_PG_MAJOR=17 bash
 *       scripts/setup.sh` into one kit-owned prefix with Debian's own layout under it (install_pg17 there).
 */
export interface PgInstall {
  major: number;
  /** initdb, pg_ctl, postgres, psql, pg_dump, pgbench. */
  binDir: string;
  /** Where the extensions' shared libraries are (pg_config --pkglibdir). */
  libDir: string;
  /** The pgBackRest program that supports this major. */
  pgbackrest: string;
  /** What to run when this install is missing. */
  setupHint: string;
}

/** The majors the kit has a local test target for (`PGKIT_PG_MAJOR`); 15 is the default. */
export const TESTED_PG_MAJORS = [15, 17] as const;
export type TestedPgMajor = (typeof TESTED_PG_MAJORS)[number];
/** Where scripts/setup.sh puts PostgreSQL 17 (PGKIT_PG17_PREFIX there and here). */
export const PG17_PREFIX = process.env.PGKIT_PG17_PREFIX || '/opt/pgkit/postgresql-17';

export function pgInstall(major: TestedPgMajor): PgInstall {
  if (major === 15) {
    return { major, binDir: '/usr/lib/postgresql/15/bin', libDir: '/usr/lib/postgresql/15/lib', pgbackrest: '/usr/bin/pgbackrest', setupHint: '`npm run setup` (as root, or `sudo bash scripts/setup.sh --system`)' };
  }
  return { major, binDir: `${PG17_PREFIX}/usr/lib/postgresql/17/bin`, libDir: `${PG17_PREFIX}/usr/lib/postgresql/17/lib`, pgbackrest: `${PG17_PREFIX}/usr/bin/pgbackrest`, setupHint: '`PGKIT_PG_MAJOR=17 npm run setup` (as root; installs PostgreSQL 17 from Debian 13\'s packages once per machine, about a minute)' };
}

/** PGKIT_PG_MAJOR: 15 (default) or 17; anything else is refused with the list of tested majors. */
export function pgMajorFromEnv(raw: string | undefined): TestedPgMajor {
  if (raw === undefined || raw === '') return 15;
  const n = Number(raw);
  const tested = TESTED_PG_MAJORS as readonly number[];
  if (!Number.isInteger(n) || !tested.includes(n)) {
    throw new Error(`PGKIT_PG_MAJOR=${raw} is not valid: the kit has a local test target for PostgreSQL ${TESTED_PG_MAJORS.join(' and ')} only`);
  }
  return n as TestedPgMajor;
}

/** The major this process runs, chosen once by PGKIT_PG_MAJOR (npm start, npm test, the drills, the bench). */
export const PG_MAJOR: TestedPgMajor = pgMajorFromEnv(process.env.PGKIT_PG_MAJOR);
export const PG_INSTALL: PgInstall = pgInstall(PG_MAJOR);
export const pgBinDir = process.env.PGKIT_PG_BINDIR ?? PG_INSTALL.binDir;

/**
 * local: `npm start`'s stack. test: the test suite's. scale: `npm run scale`'s scratch cluster, which archives no WAL
 * (its seeds at 10x would put tens of GB of throwaway WAL into a stack's backup repository).
 */
export type StackName = 'local' | 'test' | 'scale';

export interface StackConfig {
  name: StackName;
  /** Folder holding data, config, logs and secrets of this stack (project-local, ignored by git). */
  home: string;
  host: string;
  pgPort: number;
  bouncerPort: number;
  database: string;
  /**
   * The admin login shaped like the RDS master user (LOGIN CREATEROLE CREATEDB NOSUPERUSER, a member of the
   * rds_superuser stand-in): applies the SQL bundle, creates the databases and the login roles.
   */
  adminUser: string;
  /** The bootstrap superuser: only for what RDS does for its customers (initdb, the stand-in, backups). */
  superUser: string;
  /** PgBouncer's console user (admin_users/stats_users), authenticated from the auth_file like every login. */
  bouncerConsoleUser: string;
  /** The application login role (member of the pgkit_app group role). */
  appUser: string;
  /** The queue worker login role (member of pgkit_worker): may act for an organization without a user. */
  workerUser: string;
  /** PgBouncer pool sizes: default_pool_size per user/database pair, and client connection ceiling. */
  poolSize: number;
  reservePoolSize: number;
  maxClientConn: number;
  /**
   * PgBouncer runs DISCARD ALL after every transaction when true (PGKIT_BOUNCER_RESET=1). Off by default: the
   * request context and encryption keys are bound to their transaction (sql/0800, sql/0840).
   */
  bouncerResetAfterTransaction: boolean;
  /** OS user the servers run as; null means the current user. PostgreSQL refuses to run as root. */
  osUser: string | null;
  /** pgBackRest stanza name. */
  stanza: string;
  /**
   * A streaming read replica beside the primary (`npm start -- --replica`, or PGKIT_REPLICA=1): restored from the
   * stack's own pgBackRest backup as a hot standby on `replicaPort`, with a read-only PgBouncer entry
   * (`<database>_readonly`). src/local/replica.ts.
   */
  replica: boolean;
  replicaPort: number;
  /** WAL archived to the stack's pgBackRest repository (point-in-time recovery, the drills). Off only for `scale`. */
  archive: boolean;
}

/**
 * Fixed ports, below the kernel's ephemeral range (32768-60999 on Linux by default), where any outgoing
 * connection may hold a port for a while (src/proc/ports.ts). Throwaway stacks choose free ports at run time.
 */
export const DEFAULT_PORTS: Record<StackName, { pgPort: number; bouncerPort: number; replicaPort: number }> = {
  local: { pgPort: 25432, bouncerPort: 26432, replicaPort: 25433 },
  test: { pgPort: 25442, bouncerPort: 26442, replicaPort: 25443 },
  scale: { pgPort: 25462, bouncerPort: 26462, replicaPort: 25463 },
};

function envInt(key: string, fallback: number, min: number, max: number): number {
  const raw = process.env[key];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`${key}=${raw} is not valid: expected a whole number from ${min} to ${max}`);
  }
  return n;
}

/** Environment keys, e.g. PGKIT_PG_PORT for `local` and PGKIT_TEST_PG_PORT for `test`. */
export function envKey(stack: StackName, key: string): string {
  return stack === 'local' ? `PGKIT_${key}` : `PGKIT_${stack.toUpperCase()}_${key}`;
}

export function stackConfig(name: StackName = (process.env.PGKIT_STACK as StackName | undefined) ?? 'local'): StackConfig {
  if (name !== 'local' && name !== 'test' && name !== 'scale') {
    throw new Error(`PGKIT_STACK=${String(name)} is not valid: expected one of local, test, scale`);
  }
  const d = DEFAULT_PORTS[name];
  const isRoot = process.getuid?.() === 0;
  return {
    name,
    // A data folder belongs to one major: a 17 stack lives beside the 15 one instead of meeting its files.
    home: process.env[envKey(name, 'HOME')] ?? join(repoRoot, '.pgkit', PG_MAJOR === 15 ? name : `${name}-pg${PG_MAJOR}`),
    host: '127.0.0.1',
    pgPort: envInt(envKey(name, 'PG_PORT'), d.pgPort, 1024, 65535),
    bouncerPort: envInt(envKey(name, 'BOUNCER_PORT'), d.bouncerPort, 1024, 65535),
    database: 'pgkit',
    adminUser: 'pgkit_admin',
    superUser: 'postgres',
    bouncerConsoleUser: 'pgkit_pgbouncer',
    appUser: 'pgkit_app_login',
    workerUser: 'pgkit_worker_login',
    poolSize: envInt(envKey(name, 'POOL_SIZE'), 20, 1, 1000),
    reservePoolSize: envInt(envKey(name, 'RESERVE_POOL_SIZE'), 5, 0, 1000),
    maxClientConn: envInt(envKey(name, 'MAX_CLIENT_CONN'), 1000, 10, 100000),
    bouncerResetAfterTransaction: envInt(envKey(name, 'BOUNCER_RESET'), 0, 0, 1) === 1,
    osUser: isRoot ? (process.env.PGKIT_OS_USER ?? 'pgkit') : null,
    stanza: 'pgkit',
    replica: envInt(envKey(name, 'REPLICA'), 0, 0, 1) === 1,
    replicaPort: envInt(envKey(name, 'REPLICA_PORT'), d.replicaPort, 1024, 65535),
    archive: name !== 'scale',
  };
}

/** Where the stack's files are, derived from its home. */
export function stackPaths(cfg: StackConfig) {
  // The real path: the servers' OS user may not be able to pass through the folder holding a link to it.
  const h = existsSync(cfg.home) ? realpathSync(cfg.home) : cfg.home;
  return {
    home: h,
    data: join(h, 'pgdata'),
    run: join(h, 'run'),
    log: join(h, 'log'),
    conf: join(h, 'conf'),
    secrets: join(h, 'secrets.json'),
    bouncerIni: join(h, 'conf', 'pgbouncer.ini'),
    bouncerUsers: join(h, 'conf', 'pgbouncer-users.txt'),
    bouncerPid: join(h, 'run', 'pgbouncer.pid'),
    backrestConf: join(h, 'conf', 'pgbackrest.conf'),
    backrestRepo: join(h, 'backrest', 'repo'),
    backrestLog: join(h, 'backrest', 'log'),
    backrestSpool: join(h, 'backrest', 'spool'),
    pgLog: join(h, 'log', 'postgresql.log'),
    /** The stack's TLS: a CA and a server certificate for 127.0.0.1/localhost (src/local/tls.ts). */
    tlsCa: join(h, 'conf', 'tls', 'ca.crt'),
    tlsCert: join(h, 'conf', 'tls', 'server.crt'),
    tlsKey: join(h, 'conf', 'tls', 'server.key'),
    /** pgextwlist's custom scripts (the RDS stand-in, src/local/platform.ts). */
    extwlistDir: join(h, 'conf', 'extwlist'),
    /** The read replica (src/local/replica.ts): its own data folder, socket folder, log and pgBackRest config. */
    replicaHome: join(h, 'replica'),
    replicaData: join(h, 'replica', 'pgdata'),
    replicaRun: join(h, 'replica', 'run'),
    replicaLog: join(h, 'log', 'replica.log'),
    replicaBackrestConf: join(h, 'replica', 'pgbackrest.conf'),
  };
}

/**
 * When the kit runs as root its servers run as a system user, which must be able to reach the data folder.
 * A checkout under a private folder (mktemp -d is 0700) is not reachable: then the stack's files live under
 * /var/lib/pgkit/<hash of the project path>, and .pgkit/<stack> is a link to it (the caller creates it).
 */
export function fallbackHome(cfg: StackConfig): string {
  const slug = createHash('sha256').update(repoRoot).digest('hex').slice(0, 12);
  // Named after the stack's folder, so private instances (tests, drills) never share a fallback.
  return join('/var/lib/pgkit', slug, basename(cfg.home));
}

export function isReadable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return existsSync(path);
  } catch {
    return false;
  }
}
