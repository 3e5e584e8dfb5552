// The local stack for real: a private instance (own folder, and free ports chosen for this run) is started,
// restarted, crashed and blocked, so the shared test stack and the user's local stack are never touched.
import { createServer, type Server } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, stackConfig, stackPaths, type StackConfig } from '../../src/config.js';
import { reservePorts, type PortLease } from '../../src/proc/ports.js';
import { runStep } from '../../src/proc/run.js';
import { isAlive, sleep } from '../../src/proc/system.js';
import { connectionStrings, postgresRunning, removeStackFiles, rotateContextKey, rotateLoginPassword, stackSecrets, stackSigner, startStack, stackStatus, stopStack, formatStatusTable } from '../../src/local/stack.js';
import { leaveVerifiedContextBehind, setContext } from '../support/context.js';
import { queryOnce } from '../support/query.js';
import { applyMigrations, LEDGER_TABLE, loadMigrations } from '../../src/migrate/index.js';

let ports: PortLease;
let cfg: StackConfig;
const logs: string[] = [];
const start = () =>
  startStack(cfg, { log: (l) => logs.push(l), migrate: async (url) => void (await applyMigrations({ connectionString: url })) });

beforeAll(async () => {
  ports = await reservePorts(2);
  const [pgPort, bouncerPort] = ports.ports;
  cfg = { ...stackConfig('test'), home: join(repoRoot, '.pgkit', `stack-test-${process.pid}`), pgPort, bouncerPort, poolSize: 1, reservePoolSize: 0 };
});

afterAll(async () => {
  if (!cfg) return;
  await stopStack(cfg).catch(() => {});
  removeStackFiles(cfg);
  ports.release();
});

describe('local stack', () => {
  let urls: Awaited<ReturnType<typeof start>>['urls'];

  it('starts PostgreSQL and PgBouncer; the pooled app connection can use pgvector', async () => {
    const r = await start();
    urls = r.urls;
    expect(r.started).toEqual(['postgresql', 'pgbouncer']);
    await queryOnce(urls.appPooled, 'CREATE EXTENSION IF NOT EXISTS vector');
    const rows = await queryOnce<{ d: number }>(urls.appPooled, "SELECT '[1,2,3]'::vector <=> '[1,2,4]' AS d");
    expect(rows[0].d).toBeCloseTo(0.00853986601633272, 10);
    const who = await queryOnce<{ u: string; pooled: string }>(urls.appPooled, 'SELECT current_user AS u, inet_server_port()::text AS pooled');
    expect(who[0].u).toBe(cfg.appUser);
    const worker = await queryOnce<{ u: string; member: boolean }>(urls.workerPooled, "SELECT current_user AS u, pg_has_role('pgkit_worker', 'MEMBER') AS member");
    expect(worker[0]).toEqual({ u: cfg.workerUser, member: true });
    expect(formatStatusTable(await stackStatus(cfg))).toMatch(/postgresql\s+running[\s\S]*pgbouncer\s+running/);
  });

  it('has the settings the kit depends on (scram, preload, archiving)', async () => {
    const rows = await queryOnce<{ name: string; setting: string }>(
      urls.adminDirect,
      "SELECT name, setting FROM pg_settings WHERE name IN ('password_encryption','shared_preload_libraries','archive_mode','wal_level','listen_addresses')",
    );
    const s = Object.fromEntries(rows.map((r) => [r.name, r.setting]));
    expect(s).toMatchObject({ password_encryption: 'scram-sha-256', archive_mode: 'on', wal_level: 'replica', listen_addresses: '127.0.0.1' });
    expect(s.shared_preload_libraries).toContain('pg_cron');
    expect(s.shared_preload_libraries).toContain('pg_stat_statements');
  });

  it('refuses a superuser login through the pooler (administrators connect directly)', async () => {
    const adminPooled = urls.adminDirect.replace(`:${cfg.pgPort}/`, `:${cfg.bouncerPort}/`);
    await expect(queryOnce(adminPooled, 'SELECT 1')).rejects.toThrow();
  });

  it('a context left on a pooled server connection by a session-level SET does not act for the next client', async () => {
    // Pool size 1: both clients are served by the one server connection. PgBouncer does not reset it between
    // clients (src/local/render.ts); the context must count only in the transaction that stamped it (sql/0800).
    const org = '00000000-0000-4000-8000-00000000000b';
    const user = '00000000-0000-4000-8000-0000000000b1';
    await queryOnce(urls.adminDirect, `INSERT INTO app.organizations (id, name, slug) VALUES ('${org}', 'Spoofed', 'spoofed-org') ON CONFLICT DO NOTHING;
      INSERT INTO app.users (id, email, display_name) VALUES ('${user}', 'spoof@example.com', 'Spoof') ON CONFLICT DO NOTHING;
      INSERT INTO app.memberships (organization_id, user_id, role) VALUES ('${org}', '${user}', 'owner') ON CONFLICT DO NOTHING;
      INSERT INTO app.projects (organization_id, name) SELECT '${org}', 'spoofed project' WHERE NOT EXISTS (SELECT 1 FROM app.projects WHERE organization_id = '${org}')`);
    const spoofer = new pg.Client({ connectionString: urls.appPooled });
    await spoofer.connect();
    try {
      // A verified context copied to session level (MAC included): in a later statement (a separate
      // transaction) it no longer verifies, even for the client that set it.
      await leaveVerifiedContextBehind(spoofer, org, user, stackSigner(stackSecrets(cfg)));
      const own = await spoofer.query<{ org: string | null; n: number }>('SELECT app.current_org_id() AS org, (SELECT count(*)::int FROM app.projects) AS n');
      expect(own.rows[0]).toEqual({ org: null, n: 0 });
      await spoofer.query('BEGIN');
      await setContext(spoofer, org, user, stackSigner(stackSecrets(cfg)));
      const inTx = await spoofer.query<{ org: string | null; n: number }>('SELECT app.current_org_id() AS org, (SELECT count(*)::int FROM app.projects) AS n');
      expect(inTx.rows[0]).toEqual({ org, n: 1 }); // the control: the context works in the transaction that authenticated it
      await spoofer.query('COMMIT');
    } finally {
      await spoofer.end();
    }
    const next = await queryOnce<{ raw: string | null; org: string | null; n: number }>(urls.appPooled,
      "SELECT current_setting('app.org_id', true) AS raw, app.current_org_id() AS org, (SELECT count(*)::int FROM app.projects) AS n");
    // The raw setting is still on the connection (no reset: this is the same server connection)...
    expect(next[0].raw).toBe(org);
    // ...and it acts for nobody.
    expect(next[0]).toMatchObject({ org: null, n: 0 });
    // Nor for a client that authenticates in a savepoint it rolls back (back to the left-over settings).
    const rolledBack = new pg.Client({ connectionString: urls.appPooled });
    await rolledBack.connect();
    try {
      await rolledBack.query('BEGIN');
      await rolledBack.query('SAVEPOINT s');
      await setContext(rolledBack, org, user, stackSigner(stackSecrets(cfg)));
      await rolledBack.query('ROLLBACK TO SAVEPOINT s');
      const r = await rolledBack.query<{ raw: string | null; org: string | null; user: string | null; n: number }>(
        "SELECT current_setting('app.org_id', true) AS raw, app.current_org_id() AS org, app.current_user_id() AS user, (SELECT count(*)::int FROM app.projects) AS n");
      expect(r.rows[0]).toEqual({ raw: org, org: null, user: null, n: 0 });
      await rolledBack.query('ROLLBACK');
    } finally {
      await rolledBack.end();
    }
  });

  it('a second start on a running stack is a no-op that says so', async () => {
    const r = await start();
    expect(r.alreadyRunning).toBe(true);
    expect(r.started).toEqual([]);
  });

  it('npm start on it prints one line on the SQL bundle, the connection strings, the status table and where the ledger is', async () => {
    // scripts/start.ts on this stack (PGKIT_STACK=test with its folder and ports), output to a pipe as in CI.
    const env = { PGKIT_STACK: 'test', PGKIT_TEST_HOME: cfg.home, PGKIT_TEST_PG_PORT: String(cfg.pgPort), PGKIT_TEST_BOUNCER_PORT: String(cfg.bouncerPort), PGKIT_TEST_POOL_SIZE: '1', PGKIT_TEST_RESERVE_POOL_SIZE: '0' };
    const r = await runStep('npm start', process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts', 'start.ts')], { cwd: repoRoot, env });
    const applied = (await loadMigrations()).length; // versioned files and definitions
    expect((await queryOnce<{ n: number }>(urls.adminDirect, `SELECT count(*)::int AS n FROM ${LEDGER_TABLE}`))[0].n).toBeLessThan(applied);
    expect(r.stdout).toContain(`[pgkit] SQL bundle up to date (${applied} applied)\n`);
    expect(r.stdout).toContain('[pgkit] the test stack is already running and up to date: nothing to do');
    const { superuserDirect, appReadonlyPooled, ...shown } = urls;
    for (const url of Object.values(shown)) expect(r.stdout).toContain(url);
    // No replica on this stack (npm start -- --replica): no read-only connection string.
    expect(r.stdout).not.toContain(appReadonlyPooled);
    // The superuser is the platform's, not the user's: its password is never printed.
    expect(r.stdout).not.toContain(new URL(superuserDirect).password);
    expect(r.stdout).toMatch(/^component\s+state\s+pid\s+port\s+detail\npostgresql\s+running[^\n]*\npgbouncer\s+running/m);
    expect(r.stdout).toContain('`npm run migrate -- status`');
    // Neither a line per file nor the ledger table.
    expect(r.stdout).not.toMatch(/\.sql/);
    expect(r.stdout.split('\n').length).toBeLessThan(20);
  });

  it('rotates a login password: role and pooler together; old password refused, new accepted, running clients see no error', async () => {
    const before = urls;
    const held = new pg.Client({ connectionString: before.appPooled });
    await held.connect();
    let errors = 0;
    let queries = 0;
    let running = true;
    const loop = (async () => {
      while (running) {
        await held.query('SELECT 1').then(() => queries++, () => errors++);
      }
    })();
    try {
      const next = await rotateLoginPassword(cfg, 'app');
      const after = connectionStrings(cfg, next);
      expect(after.appPooled).not.toBe(before.appPooled);
      expect((await queryOnce<{ u: string }>(after.appPooled, 'SELECT current_user AS u'))[0].u).toBe(cfg.appUser);
      expect((await queryOnce<{ u: string }>(after.appDirect, 'SELECT current_user AS u'))[0].u).toBe(cfg.appUser);
      await expect(queryOnce(before.appPooled, 'SELECT 1')).rejects.toThrow(/password|authentication|SASL/i);
      await expect(queryOnce(before.appDirect, 'SELECT 1')).rejects.toThrow(/password authentication failed/);
      // The verifier in the pooler's auth_file is the role's own (what lets PgBouncer pass SCRAM through).
      expect(readFileSync(stackPaths(cfg).bouncerUsers, 'utf8')).toContain(`"${cfg.appUser}" "${next.verifiers.app}"`);
      urls = after;
      await sleep(200);
    } finally {
      running = false;
      await loop;
      await held.end();
    }
    expect(queries).toBeGreaterThan(10);
    expect(errors).toBe(0);
  });

  it('rotates the user context key with both keys live in between; after --retire the old key signs nothing', async () => {
    const open = async (token: string) => {
      const c = new pg.Client({ connectionString: urls.appPooled });
      await c.connect();
      try {
        await c.query('BEGIN');
        await c.query('SELECT app.authenticate_context($1)', [token]);
        return (await c.query<{ o: string | null }>('SELECT app.current_org_id()::text AS o')).rows[0].o;
      } finally {
        await c.end();
      }
    };
    const org = '00000000-0000-4000-8000-00000000000b';
    const user = '00000000-0000-4000-8000-0000000000b1'; // the member created by the leftover test above
    const oldToken = stackSigner(stackSecrets(cfg)).user(org, user).token;
    expect(await open(oldToken)).toBe(org);
    const mid = await rotateContextKey(cfg, 'user', false);
    const newToken = stackSigner(mid).user(org, user).token;
    expect(newToken.split('.')[0]).not.toBe(oldToken.split('.')[0]); // another kid in the header
    expect(await open(oldToken)).toBe(org);
    expect(await open(newToken)).toBe(org);
    await expect(rotateContextKey(cfg, 'user', false)).rejects.toThrow(/rotation is under way/);
    const done = await rotateContextKey(cfg, 'user', true);
    expect(done.contextKeys.filter((k) => k.purpose === 'user')).toHaveLength(1);
    await expect(open(oldToken)).rejects.toThrow(/unknown or retired key id/);
    expect(await open(newToken)).toBe(org);
  });

  it('keeps data across stop and start', async () => {
    await queryOnce(urls.adminDirect, 'CREATE TABLE IF NOT EXISTS public.survivor (v text); INSERT INTO public.survivor VALUES (\'kept\')');
    expect(await stopStack(cfg)).toEqual(['pgbouncer', 'postgresql']);
    expect(postgresRunning(cfg)).toBeNull();
    await start();
    const rows = await queryOnce<{ v: string }>(urls.adminDirect, 'SELECT v FROM public.survivor');
    expect(rows.map((r) => r.v)).toEqual(['kept']);
  });

  it('names the taken port and the setting to change', async () => {
    await stopStack(cfg);
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(cfg.pgPort, '127.0.0.1', r));
    try {
      await expect(start()).rejects.toThrow(new RegExp(`127\\.0\\.0\\.1:${cfg.pgPort} is already in use[\\s\\S]*PGKIT_TEST_PG_PORT=`));
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it('recovers after kill -9 of the postmaster and says what it did', async () => {
    await start();
    await queryOnce(urls.adminDirect, "INSERT INTO public.survivor VALUES ('before crash')");
    const pid = postgresRunning(cfg);
    expect(pid).not.toBeNull();
    process.kill(pid!, 'SIGKILL');
    for (let i = 0; i < 50 && isAlive(pid!); i++) await sleep(100);
    logs.length = 0;
    await start();
    expect(logs.join('\n')).toMatch(/stale postmaster\.pid/);
    const rows = await queryOnce<{ v: string }>(urls.adminDirect, 'SELECT v FROM public.survivor ORDER BY v');
    expect(rows.map((r) => r.v)).toEqual(['before crash', 'kept']);
  });
});

describe('stack config', () => {
  it('rejects a bad port with the key and the allowed range', () => {
    process.env.PGKIT_TEST_PG_PORT = 'eighty';
    try {
      expect(() => stackConfig('test')).toThrow('PGKIT_TEST_PG_PORT=eighty is not valid: expected a whole number from 1024 to 65535');
    } finally {
      delete process.env.PGKIT_TEST_PG_PORT;
    }
  });
});
