// Running the drills' programs: like src/local/proc.ts's run/runStep (as the servers' OS user through runuser,
// output captured, failures naming the step), but with stdin closed from the start. Writing to the stdin of a
// child that already exited raises EPIPE as an uncaught error; the drills start many short-lived programs
// (du, cp, pgbackrest, pg_ctl), which made that race show up.
import { spawn } from 'node:child_process';
import { StepError, type RunResult } from '../local/proc.js';

export function run(cmd: string, args: string[], opts: { osUser?: string | null; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  const [file, argv] = opts.osUser ? ['runuser', ['-u', opts.osUser, '--', cmd, ...args]] : [cmd, args];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, argv, { env: { ...process.env, ...opts.env }, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? 1, stdout, stderr }));
  });
}

export async function runStep(step: string, cmd: string, args: string[], opts: Parameters<typeof run>[2] = {}): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    const out = `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-30).join('\n');
    throw new StepError(step, `\`${cmd} ${args.join(' ')}\` exited with ${r.code}:\n${out}`);
  }
  return r;
}
