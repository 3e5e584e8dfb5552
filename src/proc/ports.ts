// Ports outside the kernel's ephemeral range. Linux gives every outgoing connection a local port from
// /proc/sys/net/ipv4/ip_local_port_range (32768-60999 by default), so a server port inside that range is taken
// from time to time by some unrelated client, and the server cannot start. The stacks' fixed default ports
// (src/config.ts) lie below it, and throwaway servers (test stacks, drill stacks, scratch clusters, a second
// PgBouncer) take free ports chosen here at run time from a band below it.
//
// Two processes (parallel vitest workers, a drill beside a test run) must not choose the same port between
// the check and the server's start: a chosen port is also locked, by a file named after it in a folder shared
// by every checkout on the machine, holding the chooser's pid. The lock lasts until release(), or until that
// process is gone (a later chooser removes a dead owner's lock).
import { randomUUID, randomInt } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StepError } from './run.js';
import { isAlive } from './system.js';

export interface PortRange {
  low: number;
  high: number;
}

/** Linux's default ephemeral range, also forbidden where a machine's own range is narrower. */
export const LINUX_EPHEMERAL_DEFAULT: PortRange = { low: 32768, high: 60999 };
/** Where throwaway servers' ports come from: below the ephemeral range, apart from the stacks' defaults (25432...). */
export const THROWAWAY_BAND: PortRange = { low: 20000, high: 24999 };
/** One lock file per chosen port, shared by every checkout and user on the machine. */
export const PORT_LOCK_DIR = join(tmpdir(), 'pgkit-ports');

export const inRange = (port: number, r: PortRange) => port >= r.low && port <= r.high;

/** The kernel's ephemeral port range; Linux's default when it cannot be read. */
export function ephemeralPortRange(file = '/proc/sys/net/ipv4/ip_local_port_range'): PortRange {
  try {
    const [low, high] = readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high) && low <= high) return { low, high };
  } catch {
    // not Linux, or /proc is not mounted
  }
  return LINUX_EPHEMERAL_DEFAULT;
}

/** True when nothing listens on host:port (we can bind it ourselves). */
export function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const srv = createServer();
    srv.once('error', () => resolvePromise(false));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolvePromise(true)));
  });
}

export interface PortLease {
  readonly ports: number[];
  /** Frees the ports for other choosers (the servers on them should be stopped first). Safe to call twice. */
  release(): void;
}

export interface ReserveOptions {
  host?: string;
  band?: PortRange;
  lockDir?: string;
  /** The range to stay out of; default the kernel's. */
  ephemeral?: PortRange;
}

const held = new Map<string, number>();
let exitHookInstalled = false;

function readOwner(path: string): number {
  try {
    return Number(readFileSync(path, 'utf8').trim());
  } catch {
    return NaN;
  }
}

function lockDirReady(dir: string) {
  if (mkdirSync(dir, { recursive: true })) {
    try {
      chmodSync(dir, 0o1777); // like /tmp: every user can lock, only the owner can remove their lock
    } catch {
      // another user made it
    }
  }
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const path of held.keys()) rmSync(path, { force: true });
    });
  }
}

/**
 * Takes the lock file of `port` (created whole by link(2), which fails if it exists). A lock whose owner is
 * gone is moved aside first; if what was moved turns out to be a live owner's (it took the port meanwhile), it
 * is put back and the port counts as taken.
 */
function tryLock(dir: string, port: number): boolean {
  const lock = join(dir, String(port));
  const mine = join(dir, `.${port}.${process.pid}.${randomUUID()}`);
  writeFileSync(mine, String(process.pid), { mode: 0o644 });
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(mine, lock);
        held.set(lock, process.pid);
        return true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const owner = readOwner(lock);
      if (!Number.isInteger(owner) || owner <= 0 || isAlive(owner)) return false;
      const grave = `${mine}.stale`;
      try {
        renameSync(lock, grave);
      } catch {
        return false; // another chooser moved it first, or we may not (another user's lock)
      }
      const moved = readOwner(grave);
      if (moved !== owner && isAlive(moved)) {
        try {
          linkSync(grave, lock);
        } catch {
          // someone locked it again meanwhile; either way the port is taken
        }
        rmSync(grave, { force: true });
        return false;
      }
      rmSync(grave, { force: true });
    }
    return false;
  } finally {
    rmSync(mine, { force: true });
  }
}

function unlock(dir: string, port: number) {
  const lock = join(dir, String(port));
  if (readOwner(lock) === process.pid) rmSync(lock, { force: true });
  held.delete(lock);
}

/**
 * Chooses `count` ports that are free now and locked for this process: from `band`, outside the ephemeral
 * range, starting at a random place so concurrent choosers rarely meet.
 */
export async function reservePorts(count: number, opts: ReserveOptions = {}): Promise<PortLease> {
  const host = opts.host ?? '127.0.0.1';
  const band = opts.band ?? THROWAWAY_BAND;
  const dir = opts.lockDir ?? PORT_LOCK_DIR;
  const ephemeral = opts.ephemeral ?? ephemeralPortRange();
  const candidates: number[] = [];
  for (let p = band.low; p <= band.high; p++) if (!inRange(p, ephemeral) && !inRange(p, LINUX_EPHEMERAL_DEFAULT)) candidates.push(p);
  lockDirReady(dir);
  const ports: number[] = [];
  const start = candidates.length ? randomInt(candidates.length) : 0;
  for (let i = 0; i < candidates.length && ports.length < count; i++) {
    const port = candidates[(start + i) % candidates.length];
    if (!tryLock(dir, port)) continue;
    if (await portIsFree(host, port)) ports.push(port);
    else unlock(dir, port);
  }
  const lease: PortLease = {
    ports,
    release: () => {
      for (const p of ports) unlock(dir, p);
    },
  };
  if (ports.length < count) {
    lease.release();
    throw new StepError(
      'free port',
      `found ${ports.length} of ${count} free port(s) in ${band.low}-${band.high} outside the ephemeral range ${ephemeral.low}-${ephemeral.high} (locks in ${dir})`,
    );
  }
  return lease;
}

