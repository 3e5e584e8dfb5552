// RDS parity (issue 12): the bundle is applied by an admin shaped like the RDS master user, never a superuser;
// a file that needs a superuser fails, naming the file and statement; the stand-in does no more than RDS's
// rds_superuser may; the pooler authenticates from its auth_file (no pg_shadow), over TLS; bind parameters never
// reach the server log.
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackPaths } from '../../src/config.js';
import { applyMigrations, MigrationError } from '../../src/migrate/index.js';
import { stackSecrets } from '../../src/local/stack.js';
import { freshDatabase, migratedDatabase, type TestDb } from '../support/db.js';
import { templateName, testStack } from '../support/stack.js';
import { migrationDir, type MigrationDir } from '../migrate/helpers.js';
import { secretsInLog } from '../support/log-scan.js';

let db: TestDb;
beforeAll(async () => {
  db = await migratedDatabase();
});
afterAll(async () => {
  await db?.drop();
});

async function one<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = [], ssl?: pg.ClientConfig['ssl']): Promise<T> {
  const c = new pg.Client({ connectionString: url, ssl });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows[0];
  } finally {
    await c.end();
  }
}
const failure = (p: Promise<unknown>) => p.then(() => 'no error', (e: Error) => e.message);
const withUser = (url: string, user: string, password: string) => {
  const u = new URL(url);
  u.username = user;
  u.password = encodeURIComponent(password);
  return u.toString();
};

describe('who applies the bundle', () => {
  it('the admin is shaped like the RDS master user: no superuser, CREATEROLE, CREATEDB, a member of the rds_superuser stand-in', async () => {
    const r = await one<Record<string, unknown>>(
      db.url,
      `SELECT current_user AS u, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolbypassrls, r.rolreplication,
              pg_has_role(current_user, 'rds_superuser', 'MEMBER') AS rds,
              pg_has_role('rds_superuser', 'pg_monitor', 'MEMBER') AS monitor,
              pg_has_role('rds_superuser', 'pg_signal_backend', 'MEMBER') AS signal
       FROM pg_roles r WHERE r.rolname = current_user`,
    );
    expect(r).toEqual({ u: 'pgkit_admin', rolsuper: false, rolcreaterole: true, rolcreatedb: true, rolbypassrls: false, rolreplication: false, rds: true, monitor: true, signal: true });
  });

  it('every file of the template database was applied by the admin', async () => {
    const { rows } = await db.pool.query<{ by: string; n: number }>(
      `SELECT applied_by AS by, count(*)::int AS n FROM pgkit_migrations.ledger GROUP BY 1
       UNION ALL SELECT applied_by, count(*)::int FROM pgkit_migrations.definition_applies GROUP BY 1`,
    );
    expect(new Set(rows.map((r) => r.by))).toEqual(new Set(['pgkit_admin']));
    expect(await templateName()).toMatch(/^pgkit_tpl_/);
  });

  it('the admin cannot read pg_shadow or pg_authid, as on RDS', async () => {
    expect(await failure(one(db.url, 'SELECT passwd FROM pg_shadow LIMIT 1'))).toMatch(/permission denied/);
    expect(await failure(one(db.url, 'SELECT rolpassword FROM pg_authid LIMIT 1'))).toMatch(/permission denied/);
  });
});

describe('the CREATEROLE rules of the server major (PostgreSQL 16 changed them)', () => {
  // On 16+ a CREATEROLE role that creates a role holds ADMIN OPTION alone on it: a member for pg_has_role
  // 'MEMBER', yet ALTER ... OWNER TO and ALTER DEFAULT PRIVILEGES FOR ROLE are refused. sql/0410 and sql/0850
  // ask app_private.can_set_role, the one place that knows the difference.
  it('can_set_role is false for a role the admin only created, true once granted, on this major', async () => {
    const role = `pgkit_t_cr_${randomBytes(4).toString('hex')}`;
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      await c.query(`CREATE ROLE ${role} NOLOGIN`);
      const q = async () =>
        (await c.query<{ major: number; member: boolean; can: boolean }>(
          `SELECT current_setting('server_version_num')::int / 10000 AS major, pg_has_role(current_user, $1, 'MEMBER') AS member,
                  app_private.can_set_role(current_user, $1) AS can`,
          [role],
        )).rows[0];
      const before = await q();
      expect(before.can).toBe(false);
      // The trap on 16+: membership without the SET option.
      expect(before.member).toBe(before.major >= 16);
      await c.query(`GRANT ${role} TO current_user`);
      expect((await q()).can).toBe(true);
      // What the check stands for: the admin can now hand an object to that role.
      await c.query(`CREATE SCHEMA ${role}_s`);
      await c.query(`GRANT CREATE ON SCHEMA ${role}_s TO ${role}`);
      await c.query(`CREATE TABLE ${role}_s.t (id int)`);
      await c.query(`ALTER TABLE ${role}_s.t OWNER TO ${role}`);
    } finally {
      await c.query(`DROP SCHEMA IF EXISTS ${role}_s CASCADE`).catch(() => undefined);
      await c.query(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
      await c.end();
    }
  });

  it('the admin that applied the bundle may act as pgkit_owner and pgkit_migrator (sql/0410, sql/0850)', async () => {
    const r = await one<{ owner: boolean; migrator: boolean }>(
      db.url,
      `SELECT app_private.can_set_role(current_user, 'pgkit_owner') AS owner, app_private.can_set_role(current_user, 'pgkit_migrator') AS migrator`,
    );
    expect(r).toEqual({ owner: true, migrator: true });
  });
});

describe('a file that needs a superuser fails, naming the file and the statement', () => {
  let fresh: TestDb;
  let dir: MigrationDir;
  beforeAll(async () => {
    fresh = await freshDatabase();
    dir = await migrationDir();
  });
  afterAll(async () => {
    await fresh?.drop();
    await dir?.cleanup();
  });

  it.each([
    ['a role attribute only a superuser may set', 'ALTER ROLE pgkit_readonly BYPASSRLS;', /0002_needs_superuser\.sql:3: ERROR 42501: (must be superuser|permission denied)/],
    ['reading pg_shadow', 'SELECT passwd FROM pg_catalog.pg_shadow;', /0002_needs_superuser\.sql:3: ERROR 42501: permission denied for view pg_shadow/],
    ['an extension RDS does not offer', 'CREATE EXTENSION IF NOT EXISTS dblink;', /0002_needs_superuser\.sql:3: ERROR 42501: permission denied to create extension "dblink"/],
    // PostgreSQL 15 says "must be superuser"; 16+ says "permission denied to create role" (CREATEROLE rework).
    ['a superuser or BYPASSRLS role', 'CREATE ROLE parity_probe_role BYPASSRLS;', /0002_needs_superuser\.sql:3: ERROR 42501: (must be superuser|permission denied to create role)/],
  ])('%s', async (_what, statement, message) => {
    await dir.write('0001_ok.sql', 'SELECT 1;');
    await dir.write('0002_needs_superuser.sql', `-- a new file\nSELECT 2;\n${statement}\n`);
    const err = await applyMigrations({ connectionString: fresh.url, dir: dir.path }).catch((e: unknown) => e);
    await dir.remove('0002_needs_superuser.sql');
    expect(err).toBeInstanceOf(MigrationError);
    expect((err as MigrationError).message).toMatch(message);
  });

  it('the allow-listed extensions and event triggers work as the admin, as on RDS', async () => {
    await dir.write('0003_rds_allows.sql', [
      'CREATE EXTENSION IF NOT EXISTS vector;',
      'CREATE FUNCTION public.noop_evt() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;',
      'CREATE EVENT TRIGGER parity_noop ON ddl_command_end EXECUTE FUNCTION public.noop_evt();',
      'DROP EVENT TRIGGER parity_noop;',
    ].join('\n'));
    const r = await applyMigrations({ connectionString: fresh.url, dir: dir.path });
    expect(r.applied).toContain('0003_rds_allows.sql');
    expect((await fresh.pool.query("SELECT extname FROM pg_extension WHERE extname = 'vector'")).rowCount).toBe(1);
  });

  it('the event-trigger stand-in runs nothing but event trigger DDL, and only for rds_superuser members', async () => {
    expect(await failure(fresh.pool.query("SELECT rds_stand_in.event_trigger_ddl('ALTER ROLE pgkit_admin SUPERUSER')"))).toMatch(/exactly one CREATE, ALTER or DROP EVENT TRIGGER/);
    expect(await failure(fresh.pool.query("SELECT rds_stand_in.event_trigger_ddl('DROP EVENT TRIGGER IF EXISTS x; ALTER ROLE pgkit_admin SUPERUSER')"))).toMatch(/exactly one/);
    expect(await failure(one(fresh.appUrl, "SELECT rds_stand_in.event_trigger_ddl('DROP EVENT TRIGGER IF EXISTS x')"))).toMatch(/permission denied/);
  });
});

describe('the pooler', () => {
  const secrets = () => stackSecrets(testStack);
  const pooled = () => db.appPooledUrl;

  it('has no lookup function and reads no password from the database', async () => {
    const r = await one<{ f: string | null }>(db.url, "SELECT to_regprocedure('pgbouncer.user_lookup(text)')::text AS f");
    expect(r.f).toBeNull();
  });

  it('serves the app login by SCRAM from its auth_file, and refuses a wrong password, the admin and the superuser', async () => {
    expect((await one<{ u: string }>(pooled(), 'SELECT current_user AS u')).u).toBe(testStack.appUser);
    expect(await failure(one(withUser(pooled(), testStack.appUser, 'wrong-password'), 'SELECT 1'))).toMatch(/password authentication failed|SASL|authentication/i);
    expect(await failure(one(withUser(pooled(), testStack.adminUser, secrets().adminPassword), 'SELECT 1'))).not.toBe('no error');
    expect(await failure(one(withUser(pooled(), testStack.superUser, secrets().superuserPassword), 'SELECT 1'))).not.toBe('no error');
  });

  it('accepts TLS: sslmode=require, and verify-full against the stack CA; verify-full fails against another CA', async () => {
    const ca = readFileSync(stackPaths(testStack).tlsCa, 'utf8');
    // node-postgres refuses to go on when the server does not accept TLS: success means the hop is encrypted.
    const viaRequire = await one<{ ok: number }>(pooled(), 'SELECT 1 AS ok', [], { rejectUnauthorized: false });
    expect(viaRequire.ok).toBe(1);
    const viaVerify = await one<{ ok: number }>(pooled(), 'SELECT 1 AS ok', [], { ca, rejectUnauthorized: true, servername: 'localhost' });
    expect(viaVerify.ok).toBe(1);
    // A direct TLS connection reports itself in pg_stat_ssl (the pooler's own server hop is its private socket).
    const direct = await one<{ ssl: boolean }>(db.appUrl, 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()', [], { ca, rejectUnauthorized: true });
    expect(direct.ssl).toBe(true);
    const otherCa = readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8');
    expect(await failure(one(pooled(), 'SELECT 1', [], { ca: otherCa, rejectUnauthorized: true }))).toMatch(/self[- ]signed|unable to verify|certificate/i);
  });
});

describe('the server log', () => {
  it('keeps no bind parameter of a slow statement (log_parameter_max_length = 0), though it logs the statement', async () => {
    const secret = `never-in-the-log-${randomBytes(12).toString('hex')}`;
    const marker = `slow_param_probe_${randomBytes(6).toString('hex')}`;
    await db.pool.query(`SELECT pg_sleep(0.3), $1::text AS ${marker}`, [secret]);
    await db.pool.query(`SELECT pg_sleep(0.3), length($1::text) AS ${marker}_err, 1/0`, [secret]).catch(() => undefined);
    const log = readFileSync(stackPaths(testStack).pgLog, 'utf8');
    expect(log).toContain(marker); // the slow statement was logged ...
    expect(log).not.toContain(secret); // ... without its parameter
  });
});

describe('the after-suite log scan (test/support/log-scan.ts)', () => {
  it('finds a password or a keyring in a log, naming the kind and line but not the secret', () => {
    const s = stackSecrets(testStack);
    const log = ['ok line', `x ${s.appPassword} y`, 'SELECT set_config(\'app.enc_keys\', \'{"k20260101t000000z":"c2VjcmV0LWtleS1tYXRlcmlhbC1oZXJlLTEyMzQ1Njc4OTA="}\', true)'].join('\n');
    const found = secretsInLog(log, s);
    expect(found).toEqual(['line 2: the app password', 'line 3: a keyring']);
    expect(found.join(' ')).not.toContain(s.appPassword);
    expect(secretsInLog('nothing here\n', s)).toEqual([]);
  });
});
