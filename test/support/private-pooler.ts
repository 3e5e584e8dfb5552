// A private PgBouncer in front of the test stack's PostgreSQL, for tests that stop and restart the pooler (or
// the database behind it) without disturbing the other test files sharing the stack's own pooler.
//   client -> PgBouncer (this, its own port and files) -> TCP relay (this process) -> the stack's PostgreSQL
// `stopPooler()` ends PgBouncer (SIGTERM, as `npm stop` does); `startPooler()` starts it again on the same
// port. `stopDatabase()` closes the relay, so PgBouncer sees PostgreSQL gone (connection refused, existing
// server connections cut), which is what a stopped PostgreSQL looks like from the pooler; `startDatabase()`
// opens it again. The stack's PostgreSQL itself keeps running for everyone else.
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stackPaths } from '../../src/config.js';
import { reservePorts, portIsFree } from '../../src/proc/ports.js';
import { runStep } from '../../src/proc/run.js';
import { isAlive, osUserIds, sleep } from '../../src/proc/system.js';
import { testStack } from './stack.js';

export interface PrivatePooler {
  port: number;
  /** The app login through this pooler, to `database`. */
  appUrl(database: string, appUrlOfStack: string): string;
  stopPooler(): Promise<void>;
  startPooler(): Promise<void>;
  stopDatabase(): Promise<void>;
  startDatabase(): Promise<void>;
  close(): Promise<void>;
}

export async function privatePooler(opts: { poolSize?: number } = {}): Promise<PrivatePooler> {
  const lease = await reservePorts(2);
  const [port, relayPort] = lease.ports;
  const dir = mkdtempSync(join(tmpdir(), 'pgkit-private-pooler-'));
  const ids = osUserIds(testStack.osUser);
  if (ids) chownSync(dir, ids.uid, ids.gid);
  const ini = join(dir, 'pgbouncer.ini');
  const pidFile = join(dir, 'pgbouncer.pid');
  writeFileSync(
    ini,
    `[databases]
* = host=127.0.0.1 port=${relayPort}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
pidfile = ${pidFile}
logfile = ${join(dir, 'pgbouncer.log')}
pool_mode = transaction
default_pool_size = ${opts.poolSize ?? 5}
max_client_conn = 200
server_login_retry = 1
query_wait_timeout = 30
auth_type = scram-sha-256
auth_file = ${stackPaths(testStack).bouncerUsers}
ignore_startup_parameters = extra_float_digits,options
`,
  );
  if (ids) chownSync(ini, ids.uid, ids.gid);

  // The relay: forwards to PostgreSQL while open; closing it refuses new connections and cuts the open ones.
  const sockets = new Set<Socket>();
  let relay: Server | null = null;
  const openRelay = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((c) => {
        const up = createConnection({ host: '127.0.0.1', port: testStack.pgPort });
        sockets.add(c).add(up);
        const drop = () => {
          c.destroy();
          up.destroy();
          sockets.delete(c);
          sockets.delete(up);
        };
        c.on('error', drop).on('close', drop);
        up.on('error', drop).on('close', drop);
        c.pipe(up).pipe(c);
      });
      s.once('error', reject);
      s.listen(relayPort, '127.0.0.1', () => resolve());
      relay = s;
    });
  const closeRelay = async () => {
    const s = relay;
    relay = null;
    for (const so of sockets) so.destroy();
    sockets.clear();
    if (s) await new Promise<void>((r) => s.close(() => r()));
  };

  const pid = () => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : null);
  const startPooler = async () => {
    rmSync(pidFile, { force: true });
    await runStep('start the private PgBouncer', '/usr/sbin/pgbouncer', ['-d', ini], { osUser: testStack.osUser });
    for (let i = 0; i < 100; i++) {
      if (!(await portIsFree('127.0.0.1', port))) return;
      await sleep(50);
    }
    throw new Error(`the private PgBouncer did not listen on ${port}: ${readFileSync(join(dir, 'pgbouncer.log'), 'utf8').slice(-2000)}`);
  };
  const stopPooler = async () => {
    const p = pid();
    if (p === null || !isAlive(p)) return;
    process.kill(p, 'SIGTERM');
    for (let i = 0; i < 100 && isAlive(p); i++) await sleep(50);
    if (isAlive(p)) process.kill(p, 'SIGKILL');
  };

  await openRelay();
  await startPooler();
  return {
    port,
    appUrl: (database, stackUrl) => {
      const u = new URL(stackUrl);
      u.port = String(port);
      u.pathname = `/${database}`;
      return u.toString();
    },
    stopPooler,
    startPooler,
    stopDatabase: closeRelay,
    startDatabase: openRelay,
    async close() {
      await stopPooler();
      await closeRelay();
      rmSync(dir, { recursive: true, force: true });
      lease.release();
    },
  };
}
