// Fault drills for real on a private stack: kill -9 of the postmaster and a PgBouncer restart under write
// load (no acknowledged write may be lost), and an unwritable WAL archive (must be reported, then recover).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StackConfig } from '../../src/config.js';
import type { PortLease } from '../../src/proc/ports.js';
import { pgbouncerRunning, postgresRunning } from '../../src/local/stack.js';
import { archiveFailureDrill, killPostmasterDrill, restartPgbouncerDrill } from '../../src/drills/faults.js';
import { drillStack, removeDrillStack, startDrillStack } from './support.js';

let cfg: StackConfig;
let ports: PortLease;

beforeAll(async () => {
  ({ cfg, ports } = await drillStack('faults'));
  await startDrillStack(cfg);
});
afterAll(async () => {
  if (cfg) await removeDrillStack(cfg, ports);
});

describe('fault drills', () => {
  it('kill -9 of the postmaster under write load: crash recovery keeps every acknowledged write', async () => {
    const pidBefore = postgresRunning(cfg);
    const r = await killPostmasterDrill(cfg);
    expect(r.failures).toEqual([]);
    expect(r.lost).toBe(0);
    expect(r.acknowledged).toBeGreaterThanOrEqual(400);
    // The writers did see the crash, and the server is a new one.
    expect(r.errorsSeen.length).toBeGreaterThan(0);
    expect(postgresRunning(cfg)).not.toBe(pidBefore);
  });

  it('PgBouncer restarted under write load through it: clients reconnect, no acknowledged write lost', async () => {
    const pidBefore = pgbouncerRunning(cfg);
    const r = await restartPgbouncerDrill(cfg);
    expect(r.failures).toEqual([]);
    expect(r.lost).toBe(0);
    expect(r.acknowledged).toBeGreaterThanOrEqual(400);
    expect(r.maxOutageMs).toBeGreaterThan(0);
    expect(pgbouncerRunning(cfg)).not.toBe(pidBefore);
  });

  it('an unwritable WAL archive is reported within seconds, by the health check and by pgbackrest check, and archiving catches up once fixed', async () => {
    const r = await archiveFailureDrill(cfg, () => {}, 30_000);
    expect(r.failures).toEqual([]);
    expect(r.detectedAfterMs).not.toBeNull();
    expect(r.reported).toMatch(/WAL archiving is FAILING: segment [0-9A-F]{24} failed .*`pgbackrest --config=.* check`/);
    expect(r.checkExitCode).not.toBe(0);
    expect(r.recoveredAfterMs).not.toBeNull();
  });
});
