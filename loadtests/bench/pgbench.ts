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
  // The run key and the keyring travel as -D variables: a failure's message must not print them.
  const secrets = args.flatMap((a) => (/^(runkey|enckeys)=/.test(a) ? [a.slice(a.indexOf('=') + 1)] : []));
  const { stdout, stderr } = await runStep('pgbench', join(pgBinDir, 'pgbench'), ['-h', c.host, '-p', c.port, '-U', c.user, ...args, c.db], { cwd, env: { PGPASSWORD: c.password }, secrets });
  return stdout + stderr;
}
