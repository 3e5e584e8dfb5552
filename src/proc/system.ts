// What the kit asks the operating system about processes and users (no program is run here: that is run.ts).
import { readFileSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { StepError } from './run.js';

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
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
