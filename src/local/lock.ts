// A cross-process lock on a folder (mkdir is atomic), with stale-owner detection, and leases that let several
// test runs share one stack: the last run to leave stops it.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, sleep } from '../proc/system.js';

export async function withDirLock<T>(dir: string, fn: () => Promise<T>, timeoutMs = 300_000): Promise<T> {
  const lockDir = join(dir, '.lock');
  const started = Date.now();
  mkdirSync(dir, { recursive: true });
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let owner = NaN;
      try {
        owner = Number(readFileSync(join(lockDir, 'pid'), 'utf8'));
      } catch {
        // the owner is between mkdir and writing its pid
      }
      if (Number.isInteger(owner) && !isAlive(owner)) rmSync(lockDir, { recursive: true, force: true });
      if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for the lock ${lockDir} (held by pid ${owner})`);
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

export function addLease(dir: string): string {
  const leases = join(dir, 'leases');
  mkdirSync(leases, { recursive: true });
  const f = join(leases, String(process.pid));
  writeFileSync(f, new Date().toISOString());
  return f;
}

/** Removes this process's lease and the leases of dead processes; returns how many live leases remain. */
export function releaseLease(dir: string): number {
  const leases = join(dir, 'leases');
  rmSync(join(leases, String(process.pid)), { force: true });
  let live = 0;
  for (const name of safeList(leases)) {
    if (isAlive(Number(name))) live++;
    else rmSync(join(leases, name), { force: true });
  }
  return live;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
