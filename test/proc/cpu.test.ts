// CPU accounting from /proc (src/proc/cpu.ts), with this test process standing in for a postmaster: a child's CPU
// counts while it runs (live children) and after it has exited and been waited for (cutime/cstime), and a child
// picked by its command line is measured alone.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { serverCpuSeconds, serverProcessCpuSeconds } from '../../src/proc/cpu.js';

// 0.6 s of the child's own CPU (not of wall time: a busy machine would give it less), then idle until killed.
const BURN = 'while (process.cpuUsage().user < 600000) {} process.stdout.write("burnt"); setTimeout(() => {}, 3000)';

describe('CPU of a server from /proc', () => {
  it("counts a child's CPU while it runs and after it has exited, and measures a named child alone", async () => {
    const before = serverCpuSeconds(process.pid);
    const child = spawn(process.execPath, ['-e', BURN, 'pgkit-cpu-test-burner']);
    await new Promise((r) => child.stdout.once('data', r)); // burnt 0.6 s, now sleeping
    const named = serverProcessCpuSeconds(process.pid, /pgkit-cpu-test-burner/);
    expect(named.processes).toHaveLength(1);
    expect(named.seconds).toBeGreaterThanOrEqual(0.4);
    expect(serverProcessCpuSeconds(process.pid, /no-such-process-title/).seconds).toBe(0);
    const during = serverCpuSeconds(process.pid);
    expect(during - before).toBeGreaterThanOrEqual(0.4);
    child.kill();
    await new Promise((r) => child.on('exit', r));
    // Exited and reaped: its time moved into this process's cutime, so the total does not fall back.
    expect(serverCpuSeconds(process.pid) - before).toBeGreaterThanOrEqual(0.4);
  }, 20_000);

  it('says so when the server is not running', () => {
    expect(() => serverCpuSeconds(2 ** 22 + 12345)).toThrow(/is the server running/);
  });
});
