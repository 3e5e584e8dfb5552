// CPU time of a PostgreSQL server and of its named processes, from /proc (Linux): what a benchmark's work cost in
// CPU-seconds, as a measured input for capacity planning (docs/capacity.md), independent of how busy the machine was.
import { readdirSync, readFileSync } from 'node:fs';

/** Linux's USER_HZ: /proc reports times in 1/100 s on every architecture the kernel exposes to user space. */
const TICKS_PER_SECOND = 100;

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime of the process itself, in seconds. */
  own: number;
  /** cutime + cstime: its children it has waited for, in seconds. */
  reaped: number;
  cmdline: string;
}

function stat(pid: number): ProcStat | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    const n = (i: number) => Number(f[i - 3]);
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    return { pid, ppid: n(4), own: (n(14) + n(15)) / TICKS_PER_SECOND, reaped: (n(16) + n(17)) / TICKS_PER_SECOND, cmdline };
  } catch {
    return null; // gone meanwhile
  }
}

function children(ppid: number): ProcStat[] {
  const out: ProcStat[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const s = stat(Number(d));
    if (s && s.ppid === ppid) out.push(s);
  }
  return out;
}

/**
 * CPU-seconds a server has used so far: the postmaster's own, its children's that have exited (the postmaster waits
 * for every child, so their time is in its cutime/cstime) and those of its live children (backends, background
 * workers). The difference of two readings is what the server used between them.
 */
export function serverCpuSeconds(postmasterPid: number): number {
  const pm = stat(postmasterPid);
  if (!pm) throw new Error(`no process ${postmasterPid}: is the server running?`);
  return pm.own + pm.reaped + children(postmasterPid).reduce((a, c) => a + c.own, 0);
}

/** CPU-seconds used so far by a server's live processes whose command line matches `pattern` (e.g. /startup|walreceiver/). */
export function serverProcessCpuSeconds(postmasterPid: number, pattern: RegExp): { seconds: number; processes: string[] } {
  const ps = children(postmasterPid).filter((c) => pattern.test(c.cmdline));
  return { seconds: ps.reduce((a, c) => a + c.own, 0), processes: ps.map((c) => c.cmdline) };
}
