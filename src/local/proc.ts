// Running the stack's programs: as the stack's OS user when the kit runs as root (PostgreSQL refuses root),
// with output captured so a failure can say which step failed and show its output.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { createServer } from 'node:net';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class StepError extends Error {
  constructor(
    readonly step: string,
    message: string,
  ) {
    super(`${step}: ${message}`);
    this.name = 'StepError';
  }
}

/** Runs a program, as `osUser` when given (through runuser), and resolves with its exit code and output. */
export function run(
  cmd: string,
  args: string[],
  opts: { osUser?: string | null; env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {},
): Promise<RunResult> {
  const [file, argv] = opts.osUser ? ['runuser', ['-u', opts.osUser, '--', cmd, ...args]] : [cmd, args];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, argv, {
      env: { ...process.env, ...opts.env },
      cwd: opts.cwd ?? '/',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    // A child that exits before reading its input must not crash us with EPIPE.
    child.stdin.on('error', () => {});
    child.on('close', (code) => resolvePromise({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

/** Like run, but a non-zero exit throws a StepError naming the step and showing the output. */
export async function runStep(
  step: string,
  cmd: string,
  args: string[],
  opts: Parameters<typeof run>[2] = {},
): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    const out = `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-30).join('\n');
    throw new StepError(step, `\`${cmd} ${args.join(' ')}\` exited with ${r.code}:\n${out}`);
  }
  return r;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when nothing listens on host:port (we can bind it ourselves). */
export function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const srv = createServer();
    srv.once('error', () => resolvePromise(false));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolvePromise(true)));
  });
}

/**
 * Processes whose working directory is `dir`. PostgreSQL's backends chdir into the data directory, so after a
 * `kill -9` of the postmaster these are its orphans, which hold the shared memory a new postmaster needs.
 */
export function processesInDir(dir: string): number[] {
  let target: string;
  try {
    target = realpathSync(dir);
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/cwd`) === target) pids.push(Number(entry));
    } catch {
      // the process ended or is not ours to inspect
    }
  }
  return pids;
}

export function processName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** uid/gid of the OS user the servers run as (null: the current user). */
export function osUserIds(user: string | null): { uid: number; gid: number } | null {
  if (!user) return null;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${user}:`));
  if (!line) throw new StepError('os user', `system user '${user}' does not exist: run \`npm run setup\` as root`);
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}
