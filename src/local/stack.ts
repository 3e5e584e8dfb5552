// The local platform stack: a PostgreSQL 15 cluster and a PgBouncer in front of it, with WAL archived by
// pgBackRest, all under the stack's own folder. Start is idempotent; stop keeps the data.
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { userInfo } from 'node:os';
import pg from 'pg';
import type { StackConfig } from '../config.js';
import { envKey, fallbackHome, PG_INSTALL, pgBinDir, stackPaths } from '../config.js';
import {
  addContextKey, contextKeysOf, keepOnlyNewestContextKey, loadOrCreateSecrets, readSecrets, rotatePassword, signingKeyOf,
  type LoginKey, type StackSecrets,
} from './secrets.js';
import { ContextSigner, newContextSigningKey, registerContextKeys, type KeyPurpose } from '../db/context-token.js';
import { closeMaintenanceDatabases, ensureRdsRoles, ensureStandIn, EXTENSION_AFTER_CREATE } from './platform.js';
import { ensureTls } from './tls.js';
import { chownTo, writeOwnedFile } from './files.js';
import { withClient } from '../db/client.js';
import { portIsFree } from '../proc/ports.js';
import { run, runStep, StepError } from '../proc/run.js';
import { isAlive, osUserIds, processesInDir, processName, sleep } from '../proc/system.js';
import { pgBin, readonlyDatabase, renderHba, renderIdent, renderPgbackrestConf, renderPgbouncerIni, renderPostgresConf } from './render.js';
import { replicaRunning, replicaState, startReplica, stopReplica, type ReplicaState } from './replica.js';

export type Log = (line: string) => void;

export interface ConnectionStrings {
  /** The bootstrap superuser, straight to PostgreSQL: only what RDS does for its customers (the stand-in, drills). */
  superuserDirect: string;
  /** The RDS-shaped admin (pgkit_admin), straight to PostgreSQL: the bundle, the logins, the context keys. */
  adminDirect: string;
  /** The application login role, straight to PostgreSQL. */
  appDirect: string;
  /** The application login role through PgBouncer (transaction pooling): what the app uses. */
  appPooled: string;
  /** The queue workers' login, straight to PostgreSQL. */
  workerDirect: string;
  /** The queue worker login role through PgBouncer. */
  workerPooled: string;
  /** The application login role through PgBouncer's read-only entry (`<database>_readonly`): the read replica. */
  appReadonlyPooled: string;
}

export interface ComponentStatus {
  name: 'postgresql' | 'pgbouncer' | 'replica';
  running: boolean;
  pid: number | null;
  port: number;
  detail: string;
}

/** A path as the person at the terminal would type it: relative to where they are, when it is below it. */
export function shortPath(path: string): string {
  const r = relative(process.cwd(), path);
  return r && !r.startsWith('..') && !isAbsolute(r) ? r : path;
}


async function osUserCanWrite(cfg: StackConfig, dir: string): Promise<boolean> {
  if (!cfg.osUser) return true;
  const r = await run('test', ['-w', dir, '-a', '-x', dir], { osUser: cfg.osUser });
  return r.code === 0;
}

/**
 * Makes the stack folder and its subfolders, owned by the servers' OS user. When the kit runs as root from a
 * checkout that user cannot reach (a private temp folder, say), the folder lives under /var/lib/pgkit and the
 * project-local path becomes a link to it.
 */
async function prepareHome(cfg: StackConfig, log: Log): Promise<StackConfig> {
  const ids = osUserIds(cfg.osUser);
  const isLink = existsSync(cfg.home) && lstatSync(cfg.home).isSymbolicLink();
  if (!existsSync(cfg.home)) mkdirSync(cfg.home, { recursive: true, mode: 0o700 });
  chownTo(cfg.home, ids);
  if (!isLink && !(await osUserCanWrite(cfg, cfg.home))) {
    const fallback = fallbackHome(cfg);
    const hasData = existsSync(join(cfg.home, 'pgdata'));
    if (hasData) {
      throw new StepError('data folder', `${cfg.home} holds data but the OS user '${cfg.osUser}' cannot reach it: give it access (chmod o+x on the parent folders) or move the folder`);
    }
    rmSync(cfg.home, { recursive: true, force: true });
    // The parents must be passable by the OS user; only the stack's own folder is private to it.
    mkdirSync(dirname(fallback), { recursive: true, mode: 0o755 });
    mkdirSync(fallback, { recursive: true, mode: 0o700 });
    chownTo(fallback, ids);
    symlinkSync(fallback, cfg.home);
    log(`the OS user '${cfg.osUser}' cannot reach ${dirname(cfg.home)}; the stack's files live in ${fallback} (linked from ${cfg.home})`);
  }
  const p = stackPaths(cfg);
  for (const dir of [p.run, p.log, p.conf, p.backrestRepo, p.backrestLog, p.backrestSpool]) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chownTo(dir, ids);
  }
  for (const dir of [join(cfg.home, 'backrest')]) chownTo(dir, ids);
  return cfg;
}

const writeOwned = writeOwnedFile;

function checkInstalled() {
  const lib = PG_INSTALL.libDir;
  const needed = [pgBin('initdb'), pgBin('pg_ctl'), pgBin('postgres'), '/usr/sbin/pgbouncer', PG_INSTALL.pgbackrest, '/usr/bin/openssl', `${lib}/pgextwlist.so`, `${lib}/vector.so`, `${lib}/pg_cron.so`];
  const missing = needed.filter((f) => !existsSync(f));
  if (missing.length) {
    throw new StepError('installation', `PostgreSQL ${PG_INSTALL.major}: missing ${missing.join(', ')}: run ${PG_INSTALL.setupHint}`);
  }
}

function postmasterPid(dataDir: string): number | null {
  const f = join(dataDir, 'postmaster.pid');
  if (!existsSync(f)) return null;
  const pid = Number(readFileSync(f, 'utf8').split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

function bouncerPid(cfg: StackConfig): number | null {
  const f = stackPaths(cfg).bouncerPid;
  if (!existsSync(f)) return null;
  const pid = Number(readFileSync(f, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

export function postgresRunning(cfg: StackConfig): number | null {
  const pid = postmasterPid(stackPaths(cfg).data);
  return pid !== null && isAlive(pid) && processName(pid).includes('postgres') ? pid : null;
}

export function pgbouncerRunning(cfg: StackConfig): number | null {
  const pid = bouncerPid(cfg);
  return pid !== null && isAlive(pid) && processName(pid).includes('pgbouncer') ? pid : null;
}

async function assertPortFree(cfg: StackConfig, port: number, key: string, what: string) {
  if (!(await portIsFree(cfg.host, port))) {
    throw new StepError(
      `${what} port`,
      `${cfg.host}:${port} is already in use by another program. Stop it, or choose another port with ${key}=<port> (e.g. \`${key}=${port + 100} npm start\`)`,
    );
  }
}

/** After a crash (kill -9 of the postmaster) its backends may live on and hold shared memory: end them. */
async function recoverFromCrash(cfg: StackConfig, log: Log) {
  const p = stackPaths(cfg);
  const pid = postmasterPid(p.data);
  if (pid === null || postgresRunning(cfg) !== null) return;
  log(`found a stale postmaster.pid (pid ${pid} is not running): PostgreSQL stopped without a shutdown; it will run crash recovery from the WAL`);
  const orphans = processesInDir(p.data).filter((o) => o !== process.pid);
  if (orphans.length) {
    log(`ending ${orphans.length} orphaned backend(s) of the crashed server: ${orphans.join(', ')}`);
    for (const o of orphans) {
      try {
        process.kill(o, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (let i = 0; i < 50 && processesInDir(p.data).some((o) => isAlive(o)); i++) await sleep(100);
  }
}

async function initCluster(cfg: StackConfig, secrets: StackSecrets, log: Log) {
  const p = stackPaths(cfg);
  if (existsSync(join(p.data, 'PG_VERSION'))) return;
  const ids = osUserIds(cfg.osUser);
  log(`initialising a new PostgreSQL cluster in ${shortPath(join(cfg.home, 'pgdata'))}`);
  const pwfile = join(p.conf, 'initdb-pw');
  writeOwned(pwfile, secrets.superuserPassword + '\n', ids);
  try {
    await runStep('initdb', pgBin('initdb'), ['-D', p.data, '-U', 'postgres', `--pwfile=${pwfile}`, '--auth-local=peer', '--auth-host=scram-sha-256', '--encoding=UTF8', '--locale=C.UTF-8', '--data-checksums'], { osUser: cfg.osUser });
  } finally {
    rmSync(pwfile, { force: true });
  }
  const conf = join(p.data, 'postgresql.conf');
  writeFileSync(conf, readFileSync(conf, 'utf8') + "\n# pgkit's settings (rewritten on every start)\ninclude = 'pgkit.conf'\n");
}

function writeServerConfig(cfg: StackConfig) {
  const p = stackPaths(cfg);
  const ids = osUserIds(cfg.osUser);
  const osName = cfg.osUser ?? userInfo().username;
  writeOwned(join(p.data, 'pgkit.conf'), renderPostgresConf(cfg), ids);
  writeOwned(join(p.data, 'pg_hba.conf'), renderHba(), ids);
  writeOwned(join(p.data, 'pg_ident.conf'), renderIdent(osName), ids);
  writeOwned(p.backrestConf, renderPgbackrestConf(cfg), ids);
  // pgextwlist's after-create scripts: the RDS stand-in's grants to rds_superuser (src/local/platform.ts).
  for (const [ext, sql] of Object.entries(EXTENSION_AFTER_CREATE)) {
    const dir = join(p.extwlistDir, ext);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chownTo(p.extwlistDir, ids);
    chownTo(dir, ids);
    writeOwned(join(dir, 'after-create.sql'), sql, ids);
  }
}

/** PgBouncer's auth_file: the SCRAM verifier of every login the pooler serves, exactly as PostgreSQL holds it. */
export function renderAuthFile(cfg: StackConfig, secrets: StackSecrets): string {
  return POOLED_LOGINS.map((l) => `"${l.role(cfg)}" "${secrets.verifiers[l.key]}"\n`).join('');
}

function writeBouncerConfig(cfg: StackConfig, secrets: StackSecrets) {
  const p = stackPaths(cfg);
  const ids = osUserIds(cfg.osUser);
  writeOwned(p.bouncerIni, renderPgbouncerIni(cfg), ids);
  writeOwned(p.bouncerUsers, renderAuthFile(cfg, secrets), ids);
}

async function startPostgres(cfg: StackConfig, log: Log): Promise<boolean> {
  if (postgresRunning(cfg) !== null) return false;
  const p = stackPaths(cfg);
  await assertPortFree(cfg, cfg.pgPort, envKey(cfg.name, 'PG_PORT'), 'PostgreSQL');
  log(`starting PostgreSQL on ${cfg.host}:${cfg.pgPort}`);
  const r = await run(pgBin('pg_ctl'), ['-D', p.data, '-l', p.pgLog, '-w', '-t', '120', 'start'], { osUser: cfg.osUser });
  if (r.code !== 0) {
    const tail = existsSync(p.pgLog) ? readFileSync(p.pgLog, 'utf8').trim().split('\n').slice(-20).join('\n') : '(no log)';
    throw new StepError('start PostgreSQL', `pg_ctl exited with ${r.code}. Last lines of ${p.pgLog}:\n${tail}`);
  }
  return true;
}

/** The stanza must exist before WAL can be archived; creating it is quick and idempotent. */
async function ensureStanza(cfg: StackConfig, log: Log) {
  if (!cfg.archive) return; // a scratch stack (scale): no WAL archive, no backups
  const p = stackPaths(cfg);
  if (existsSync(join(p.backrestRepo, 'backup', cfg.stanza, 'backup.info'))) return;
  log(`creating pgBackRest stanza '${cfg.stanza}' in ${shortPath(join(cfg.home, 'backrest', 'repo'))}`);
  await runStep('pgBackRest stanza-create', PG_INSTALL.pgbackrest, [`--config=${p.backrestConf}`, `--stanza=${cfg.stanza}`, 'stanza-create'], { osUser: cfg.osUser });
}

async function startPgbouncer(cfg: StackConfig, log: Log): Promise<boolean> {
  if (pgbouncerRunning(cfg) !== null) return false;
  const p = stackPaths(cfg);
  if (existsSync(p.bouncerPid)) {
    log(`removing a stale PgBouncer pid file (pid ${bouncerPid(cfg)} is not running)`);
    rmSync(p.bouncerPid, { force: true });
  }
  await assertPortFree(cfg, cfg.bouncerPort, envKey(cfg.name, 'BOUNCER_PORT'), 'PgBouncer');
  log(`starting PgBouncer on ${cfg.host}:${cfg.bouncerPort} (transaction pooling, pool size ${cfg.poolSize})`);
  await runStep('start PgBouncer', '/usr/sbin/pgbouncer', ['-d', p.bouncerIni], { osUser: cfg.osUser });
  for (let i = 0; i < 100; i++) {
    if (pgbouncerRunning(cfg) !== null && !(await portIsFree(cfg.host, cfg.bouncerPort))) return true;
    await sleep(100);
  }
  const logFile = join(p.log, 'pgbouncer.log');
  const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-15).join('\n') : '(no log)';
  throw new StepError('start PgBouncer', `PgBouncer did not start listening on ${cfg.bouncerPort}. Last lines of ${logFile}:\n${tail}`);
}

export function connectionStrings(cfg: StackConfig, secrets: StackSecrets, database = cfg.database): ConnectionStrings {
  const url = (user: string, pw: string, port: number) => `postgresql://${user}:${encodeURIComponent(pw)}@${cfg.host}:${port}/${database}`;
  return {
    superuserDirect: url(cfg.superUser, secrets.superuserPassword, cfg.pgPort),
    adminDirect: url(cfg.adminUser, secrets.adminPassword, cfg.pgPort),
    appDirect: url(cfg.appUser, secrets.appPassword, cfg.pgPort),
    appPooled: url(cfg.appUser, secrets.appPassword, cfg.bouncerPort),
    workerDirect: url(cfg.workerUser, secrets.workerPassword, cfg.pgPort),
    workerPooled: url(cfg.workerUser, secrets.workerPassword, cfg.bouncerPort),
    appReadonlyPooled: url(cfg.appUser, secrets.appPassword, cfg.bouncerPort).replace(/\/[^/]+$/, `/${readonlyDatabase(database)}`),
  };
}

export function stackSecrets(cfg: StackConfig): StackSecrets {
  return readSecrets(stackPaths(cfg).secrets);
}

/** The logins the pooler serves (its auth_file), and the group each belongs to. */
const POOLED_LOGINS: Array<{ key: LoginKey; role: (cfg: StackConfig) => string; group: string | null }> = [
  { key: 'bouncer', role: (cfg) => cfg.bouncerConsoleUser, group: null },
  { key: 'app', role: (cfg) => cfg.appUser, group: 'pgkit_app' },
  { key: 'worker', role: (cfg) => cfg.workerUser, group: 'pgkit_worker' },
];

/**
 * What RDS does for its customers, as the bootstrap superuser (src/local/platform.ts): the rds_superuser stand-in
 * and the admin login, the event-trigger stand-in in template1 (so every new database has it) and in the stack's
 * database, and the maintenance databases closed to PUBLIC. A stack whose bundle was applied by the superuser
 * (before the admin existed) is handed over to the admin once, so its data is kept.
 */
async function ensurePlatform(cfg: StackConfig, secrets: StackSecrets, log: Log) {
  const urls = connectionStrings(cfg, secrets, 'postgres');
  await withClient(urls.superuserDirect, async (su) => {
    await ensureRdsRoles(su, { name: cfg.adminUser, verifier: secrets.verifiers.admin });
    await closeMaintenanceDatabases(su);
    const exists = await su.query('SELECT 1 FROM pg_database WHERE datname = $1', [cfg.database]);
    if (exists.rowCount === 0) {
      log(`creating database ${cfg.database} (owner ${cfg.adminUser})`);
      await su.query(`CREATE DATABASE ${pg.escapeIdentifier(cfg.database)} OWNER ${pg.escapeIdentifier(cfg.adminUser)}`);
    }
  });
  await withClient(connectionStrings(cfg, secrets, 'template1').superuserDirect, ensureStandIn);
  await withClient(connectionStrings(cfg, secrets).superuserDirect, async (su) => {
    await ensureStandIn(su);
    await handOverToAdmin(su, cfg, log);
  });
}

/**
 * A database built before the RDS-shaped admin existed was built by the superuser: the ledger, the schemas and
 * functions the bundle created outside the four owned schemas, the scheduled jobs and the database itself belong
 * to it. They move to the admin (and the admin joins the roles the bundle's applier joins), once; nothing else
 * changes. Idempotent: on a database the admin built it finds nothing to move.
 */
export async function handOverToAdmin(su: pg.ClientBase, cfg: StackConfig, log: Log): Promise<void> {
  const admin = pg.escapeIdentifier(cfg.adminUser);
  const { rows } = await su.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_namespace n WHERE n.nspname IN ('pgkit_migrations', 'pgbouncer', 'extensions')
       AND n.nspowner = (SELECT oid FROM pg_roles WHERE rolname = $1)`,
    [cfg.superUser],
  );
  if (rows[0].n === 0) return;
  log(`handing the database ${cfg.database}, built by ${cfg.superUser}, over to the admin ${cfg.adminUser} (once; data kept)`);
  await su.query('BEGIN');
  try {
    await su.query(`ALTER DATABASE ${pg.escapeIdentifier(cfg.database)} OWNER TO ${admin}`);
    await su.query(`DO $$
      DECLARE r record;
      BEGIN
        FOR r IN SELECT n.nspname FROM pg_namespace n
                 WHERE n.nspname IN ('pgkit_migrations', 'pgbouncer', 'extensions', 'partman')
                   AND n.nspowner = ${pg.escapeLiteral(cfg.superUser)}::regrole LOOP
          EXECUTE format('ALTER SCHEMA %I OWNER TO %I', r.nspname, ${pg.escapeLiteral(cfg.adminUser)});
        END LOOP;
        FOR r IN SELECT c.oid::regclass AS rel FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = 'pgkit_migrations' AND c.relkind = 'r' LOOP
          EXECUTE format('ALTER TABLE %s OWNER TO %I', r.rel, ${pg.escapeLiteral(cfg.adminUser)});
        END LOOP;
        FOR r IN SELECT p.oid::regprocedure AS fn FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                 WHERE n.nspname = 'pgbouncer' LOOP
          EXECUTE format('ALTER FUNCTION %s OWNER TO %I', r.fn, ${pg.escapeLiteral(cfg.adminUser)});
        END LOOP;
        FOR r IN SELECT rolname FROM pg_roles WHERE rolname IN ('pgkit_owner', 'pgkit_migrator') LOOP
          EXECUTE format('GRANT %I TO %I', r.rolname, ${pg.escapeLiteral(cfg.adminUser)});
        END LOOP;
        IF to_regclass('cron.job') IS NOT NULL THEN
          UPDATE cron.job SET username = ${pg.escapeLiteral(cfg.adminUser)} WHERE username = ${pg.escapeLiteral(cfg.superUser)} AND database = current_database();
        END IF;
      END $$`);
    // The grants a stack built today gets from pgextwlist's after-create scripts, for the extensions it has.
    for (const [ext, sql] of Object.entries(EXTENSION_AFTER_CREATE)) {
      const { rows: found } = await su.query<{ schema: string }>('SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = $1', [ext]);
      if (found.length) await su.query(sql.replaceAll('@extschema@', pg.escapeIdentifier(found[0].schema)));
    }
    await su.query('COMMIT');
  } catch (e) {
    await su.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

/**
 * Login roles, created by the admin (CREATEROLE, as on RDS) with their SCRAM verifiers, never plaintext. Runs
 * after the bundle created the group roles. SUPERUSER and BYPASSRLS are checked, not set: only a superuser may
 * set them, and a fresh role has neither.
 */
export async function ensureLoginRoles(cfg: StackConfig, secrets: StackSecrets) {
  await withClient(connectionStrings(cfg, secrets).adminDirect, async (admin) => {
    for (const l of POOLED_LOGINS) {
      const role = l.role(cfg);
      const id = pg.escapeIdentifier(role);
      const exists = await admin.query<{ bad: boolean }>('SELECT rolsuper OR rolbypassrls OR rolcreaterole AS bad FROM pg_roles WHERE rolname = $1', [role]);
      if (exists.rowCount === 0) await admin.query(`CREATE ROLE ${id}`);
      else if (exists.rows[0].bad) {
        throw new StepError('login roles', `${role} is SUPERUSER, BYPASSRLS or CREATEROLE: a superuser must run ALTER ROLE ${role} NOSUPERUSER NOBYPASSRLS NOCREATEROLE`);
      }
      await admin.query(`ALTER ROLE ${id} LOGIN NOCREATEDB PASSWORD ${pg.escapeLiteral(secrets.verifiers[l.key])}`);
      if (l.group) {
        const hasGroup = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [l.group]);
        if (hasGroup.rowCount) await admin.query(`GRANT ${pg.escapeIdentifier(l.group)} TO ${id}`);
      }
    }
    // Their query timeouts (issue 17 #1, sql/1000): set on each login, since a group role's settings do not reach
    // its members; the guard job keeps them.
    const enforce = await admin.query<{ ok: boolean }>("SELECT to_regprocedure('ops.enforce_login_settings()') IS NOT NULL AS ok");
    if (enforce.rows[0].ok) await admin.query('SELECT count(*) FROM ops.enforce_login_settings()');
  });
}

/**
 * A new password for one login, everywhere at once: saved to the secrets file first (nothing is lost if a step
 * fails: run it again), then the role (as the admin), then the pooler's auth_file and a reload. Connections
 * already open, and the pooler's server connections, stay as they are; new logins need the new password.
 */
export const ROTATABLE_LOGINS = ['app', 'worker', 'bouncer', 'admin'] as const;
export type RotatableLogin = (typeof ROTATABLE_LOGINS)[number];

export async function rotateLoginPassword(cfg: StackConfig, key: RotatableLogin, log: Log = () => {}): Promise<StackSecrets> {
  const p = stackPaths(cfg);
  const next = rotatePassword(p.secrets, key);
  if (key === 'admin') {
    await withClient(connectionStrings(cfg, next).superuserDirect, (su) => ensureRdsRoles(su, { name: cfg.adminUser, verifier: next.verifiers.admin }));
  } else {
    await ensureLoginRoles(cfg, next);
    writeOwned(p.bouncerUsers, renderAuthFile(cfg, next), osUserIds(cfg.osUser));
    const pid = pgbouncerRunning(cfg);
    if (pid !== null) process.kill(pid, 'SIGHUP'); // PgBouncer re-reads its auth_file on reload
  }
  log(`rotated the ${key} login's password (${p.secrets}, the role${key === 'admin' ? '' : ', the pooler'})`);
  return next;
}

/** Signs request contexts with the stack's current keys (for the seeder, drills and tests: trusted platform code). */
export function stackSigner(secrets: StackSecrets): ContextSigner {
  return new ContextSigner({ user: signingKeyOf(secrets, 'user'), worker: signingKeyOf(secrets, 'worker') });
}

/** Whether a database holds the context-key registry (sql/0930); the drills' foundation-only databases do not. */
async function holdsContextKeys(c: pg.ClientBase): Promise<boolean> {
  return (await c.query<{ ok: boolean }>("SELECT to_regprocedure('app_private.register_context_signing_key(text,text,bytea)') IS NOT NULL AS ok")).rows[0].ok;
}

/** Registers the stack's live context signing keys in a database of the stack (idempotent). */
export async function ensureContextKeys(cfg: StackConfig, secrets: StackSecrets, database = cfg.database): Promise<void> {
  await withClient(connectionStrings(cfg, secrets, database).adminDirect, async (admin) => {
    // A database with only part of the bundle (the drills' foundation) has no context keys to hold.
    if (await holdsContextKeys(admin)) await registerContextKeys(admin, contextKeysOf(secrets));
  });
}

/** The stack's databases that hold the bundle (the kit's own and the load-test one, when seeded). */
async function bundleDatabases(cfg: StackConfig, secrets: StackSecrets): Promise<string[]> {
  const names = await withClient(connectionStrings(cfg, secrets, 'postgres').adminDirect, async (c) =>
    (await c.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datallowconn AND datname NOT IN ('postgres', 'template0', 'template1') AND datname !~ '^t_[0-9]+_' ORDER BY 1")).rows.map((r) => r.datname));
  const out: string[] = [];
  for (const d of names) {
    const has = await withClient(connectionStrings(cfg, secrets, d).adminDirect, holdsContextKeys).catch(() => false);
    if (has) out.push(d);
  }
  return out;
}

/**
 * A rotation of the context signing key of `purpose`, in two steps with both keys live in between:
 * step 1 registers a new key in every bundle database, then saves it as the signer; step 2 (`retire`) retires the
 * older keys in every database, then drops them from the file. Each step is safe to run again after a failure.
 */
export async function rotateContextKey(cfg: StackConfig, purpose: KeyPurpose, retire: boolean, log: Log = () => {}): Promise<StackSecrets> {
  const p = stackPaths(cfg);
  const { secrets } = loadOrCreateSecrets(p.secrets);
  const dbs = await bundleDatabases(cfg, secrets);
  if (retire) {
    const older = secrets.contextKeys.filter((k) => k.purpose === purpose).slice(1);
    for (const d of dbs) {
      await withClient(connectionStrings(cfg, secrets, d).adminDirect, async (c) => {
        for (const k of older) await c.query('SELECT app_private.retire_context_signing_key($1)', [k.kid]);
      });
    }
    const next = keepOnlyNewestContextKey(p.secrets, purpose);
    log(`retired ${older.length ? older.map((k) => k.kid).join(', ') : 'no older key'} (${purpose}) in ${dbs.join(', ') || 'no database'}`);
    return next;
  }
  if (secrets.contextKeys.filter((k) => k.purpose === purpose).length >= 2) {
    throw new StepError('rotate context key', `a ${purpose} key rotation is under way (two keys live): finish it with --retire first`);
  }
  const key = newContextSigningKey(purpose);
  for (const d of dbs) await withClient(connectionStrings(cfg, secrets, d).adminDirect, (c) => registerContextKeys(c, [key]));
  const next = addContextKey(p.secrets, key);
  log(`registered ${key.kid} (${purpose}) in ${dbs.join(', ') || 'no database'}; it signs from now on, the older key still verifies until --retire`);
  return next;
}

export interface StartResult {
  started: string[];
  /** The read replica's state when the stack runs one (cfg.replica). */
  replica: ReplicaState | null;
  alreadyRunning: boolean;
  urls: ConnectionStrings;
}

/**
 * Brings the stack up. `migrate` is called with the admin URL once PostgreSQL is up (the runner lives in
 * src/migrate; passing it in keeps this module free of it).
 */
export async function startStack(
  cfg: StackConfig,
  opts: { log?: Log; migrate?: (adminUrl: string) => Promise<void>; replicaSharedBuffers?: string; replicaMaxReplayBytes?: number } = {},
): Promise<StartResult> {
  const log = opts.log ?? (() => {});
  checkInstalled();
  await prepareHome(cfg, log);
  const { secrets, created } = loadOrCreateSecrets(stackPaths(cfg).secrets);
  if (created) log(`generated passwords into ${shortPath(join(cfg.home, 'secrets.json'))} (mode 0600)`);
  chownTo(stackPaths(cfg).secrets, osUserIds(cfg.osUser));
  const started: string[] = [];
  await recoverFromCrash(cfg, log);
  await initCluster(cfg, secrets, log);
  await ensureTls(cfg, log);
  if (postgresRunning(cfg) === null) writeServerConfig(cfg);
  if (await startPostgres(cfg, log)) started.push('postgresql');
  await ensureStanza(cfg, log);
  await ensurePlatform(cfg, secrets, log);
  if (opts.migrate) {
    await opts.migrate(connectionStrings(cfg, secrets).adminDirect);
    await ensureContextKeys(cfg, secrets);
  }
  await ensureLoginRoles(cfg, secrets);
  if (pgbouncerRunning(cfg) === null) writeBouncerConfig(cfg, secrets);
  if (await startPgbouncer(cfg, log)) started.push('pgbouncer');
  let replica: ReplicaState | null = null;
  if (cfg.replica) {
    const r = await startReplica(cfg, { log, primarySuperuserUrl: connectionStrings(cfg, secrets, 'postgres').superuserDirect, sharedBuffers: opts.replicaSharedBuffers, maxReplayBytes: opts.replicaMaxReplayBytes });
    if (r.started) started.push('replica');
    replica = r.state;
    await ensureBouncerEntries(cfg, log);
  }
  return { started, replica, alreadyRunning: started.length === 0, urls: connectionStrings(cfg, secrets) };
}

/**
 * A running PgBouncer started without the replica's read-only entries gets them: the ini is rewritten and
 * PgBouncer reloads it (SIGHUP re-reads [databases]; clients stay connected).
 */
async function ensureBouncerEntries(cfg: StackConfig, log: Log) {
  const p = stackPaths(cfg);
  const want = renderPgbouncerIni(cfg);
  if (existsSync(p.bouncerIni) && readFileSync(p.bouncerIni, 'utf8') === want) return;
  writeOwned(p.bouncerIni, want, osUserIds(cfg.osUser));
  const pid = pgbouncerRunning(cfg);
  if (pid === null) return;
  log(`PgBouncer reloads its configuration: ${readonlyDatabase(cfg.database)} now reaches the replica`);
  process.kill(pid, 'SIGHUP');
  await sleep(300);
}

export async function stopStack(cfg: StackConfig, log: Log = () => {}): Promise<string[]> {
  const stopped: string[] = [];
  // The replica first: stopped after its primary it would only log failed reconnections until then.
  if (await stopReplica(cfg, log)) stopped.push('replica');
  const bpid = pgbouncerRunning(cfg);
  if (bpid !== null) {
    log(`stopping PgBouncer (pid ${bpid})`);
    process.kill(bpid, 'SIGTERM');
    for (let i = 0; i < 50 && isAlive(bpid); i++) await sleep(100);
    stopped.push('pgbouncer');
  }
  if (postgresRunning(cfg) !== null) {
    log('stopping PostgreSQL (fast shutdown: open transactions are rolled back, committed data is kept)');
    await runStep('stop PostgreSQL', pgBin('pg_ctl'), ['-D', stackPaths(cfg).data, '-m', 'fast', '-w', '-t', '120', 'stop'], { osUser: cfg.osUser });
    stopped.push('postgresql');
  }
  return stopped;
}

export async function stackStatus(cfg: StackConfig): Promise<ComponentStatus[]> {
  const pgPid = postgresRunning(cfg);
  const bPid = pgbouncerRunning(cfg);
  const initialised = existsSync(join(stackPaths(cfg).data, 'PG_VERSION'));
  return [
    {
      name: 'postgresql',
      running: pgPid !== null,
      pid: pgPid,
      port: cfg.pgPort,
      detail: pgPid !== null ? `data ${stackPaths(cfg).data}` : initialised ? 'stopped (data kept)' : 'not initialised',
    },
    {
      name: 'pgbouncer',
      running: bPid !== null,
      pid: bPid,
      port: cfg.bouncerPort,
      detail: bPid !== null ? `transaction pooling, pool size ${cfg.poolSize}` : 'stopped',
    },
    ...(await replicaRow(cfg, pgPid !== null)),
  ];
}

/** The replica's row: shown when the stack runs one or has one (stopped), with its lag as the primary sees it. */
async function replicaRow(cfg: StackConfig, primaryUp: boolean): Promise<ComponentStatus[]> {
  const p = stackPaths(cfg);
  const has = existsSync(join(p.replicaData, 'PG_VERSION'));
  if (!cfg.replica && !has && replicaRunning(cfg) === null) return [];
  const url = primaryUp && existsSync(p.secrets) ? connectionStrings(cfg, stackSecrets(cfg), 'postgres').superuserDirect : null;
  const s = await replicaState(cfg, url);
  return [{ name: 'replica', running: s.running, pid: s.pid, port: cfg.replicaPort, detail: describeReplica(s, has, cfg.database) }];
}

export function describeReplica(s: ReplicaState, hasData: boolean, database: string): string {
  if (!s.running) return hasData ? 'stopped (data kept; `npm start -- --replica` starts it)' : 'not created (`npm start -- --replica`)';
  if (s.state === null) return 'running, NOT connected to the primary (see log/replica.log)';
  const lag = `${s.lagBytes ?? '?'} bytes behind, replay lag ${s.replayLagMs === null ? '?' : `${s.replayLagMs.toFixed(0)} ms`}`;
  return `hot standby, ${s.state} (${s.syncState}), ${lag}; pooled read-only: ${readonlyDatabase(database)}`;
}

export function formatStatusTable(rows: ComponentStatus[]): string {
  const lines = [['component', 'state', 'pid', 'port', 'detail'], ...rows.map((r) => [r.name, r.running ? 'running' : 'stopped', r.pid?.toString() ?? '-', String(r.port), r.detail])];
  const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  return lines.map((l) => l.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

export { pgBinDir };

/** Deletes a stopped stack's files: its real folder (which may live under /var/lib/pgkit) and the link to it. */
export function removeStackFiles(cfg: StackConfig) {
  const real = stackPaths(cfg).home;
  rmSync(real, { recursive: true, force: true });
  rmSync(cfg.home, { recursive: true, force: true });
}
