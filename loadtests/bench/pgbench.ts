// Running pgbench against a connection string, through the one runner (src/proc/run.ts).
import { join } from 'node:path';
import { pgBinDir } from '../../src/config.js';
import { runStep } from '../../src/proc/run.js';

/** The parts of a connection string pgbench takes as options. */
export function conn(url: string) {
  const u = new URL(url);
  return { host: u.hostname, port: u.port, user: decodeURIComponent(u.username), password: decodeURIComponent(u.password), db: decodeURIComponent(u.pathname.slice(1)) };
}

/** Runs pgbench with `args` against `url` (password in the environment, not the command line); stdout + stderr. */
export async function pgbench(url: string, args: string[], cwd: string): Promise<string> {
  const c = conn(url);
  const { stdout, stderr } = await runStep('pgbench', join(pgBinDir, 'pgbench'), ['-h', c.host, '-p', c.port, '-U', c.user, ...args, c.db], { cwd, env: { PGPASSWORD: c.password } });
  return stdout + stderr;
}
