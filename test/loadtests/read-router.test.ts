// The read router's decisions from given WAL positions (no server): the lag it derives, the bound, and
// read-your-writes. test/local/replica.test.ts checks the same against a real paused replica.
import { describe, expect, it } from 'vitest';
import { ReadRouter } from '../../loadtests/service/readRouter.js';
import { formatLsn, LSN_PATTERN, parseLsn } from '../../src/db/lsn.js';

function router(maxLagMs: number) {
  let now = 1_000_000;
  let primaryLsn = '0/100';
  const r = new ReadRouter({
    primary: { query: (async () => ({ rows: [{ lsn: primaryLsn }] })) as never },
    replica: { query: (async () => ({ rows: [{ lsn: '0/100' }] })) as never },
    maxLagMs,
    now: () => now,
  });
  return { r, tick: (ms: number) => (now += ms), at: () => now, setPrimary: (l: string) => (primaryLsn = l) };
}

describe('ReadRouter', () => {
  it('reports no lag when the replica has replayed what the primary had, and the time since it fell behind when not', () => {
    const { r, tick, at } = router(1000);
    r.observe(at(), 0x100n, 0x100n);
    expect(r.lagMs()).toBe(0);
    expect(r.route(null)).toBe('replica');
    tick(100);
    r.observe(at(), 0x200n, 0x100n); // the primary moved on, the replica did not
    tick(100);
    r.observe(at(), 0x300n, 0x100n);
    expect(r.lagMs()).toBe(100); // behind since the reading that first saw 0x200
    tick(1000);
    r.observe(at(), 0x300n, 0x100n);
    expect(r.lagMs()).toBe(1100);
    expect(r.route('u1')).toBe('primary');
    r.observe(at(), 0x300n, 0x300n);
    expect(r.lagMs()).toBe(0);
    expect(r.route('u1')).toBe('replica');
  });

  it("sends a user's reads to the primary until the replica has replayed their last write", async () => {
    const { r, tick, at, setPrimary } = router(60_000);
    r.observe(at(), 0x100n, 0x100n);
    setPrimary('0/180');
    await r.noteWrite('writer');
    expect(r.route('writer')).toBe('primary');
    expect(r.route('reader')).toBe('replica');
    tick(50);
    r.observe(at(), 0x180n, 0x17fn); // one byte short of the write
    expect(r.route('writer')).toBe('primary');
    tick(50);
    r.observe(at(), 0x180n, 0x180n);
    expect(r.route('writer')).toBe('replica');
    expect(r.state.pendingUsers).toBe(0);
  });

  it("a position sent back by the client (another instance's write) keeps its reads on the primary until replayed", async () => {
    const { r, tick, at, setPrimary } = router(60_000);
    r.observe(at(), 0x100n, 0x100n);
    setPrimary('0/1C0');
    // The write's position, as the instance that served it returns it.
    expect(await r.noteWrite('writer')).toBe(0x1c0n);
    const other = router(60_000); // an instance that never saw the write
    other.r.observe(other.at(), 0x1c0n, 0x100n);
    expect(other.r.route('writer')).toBe('replica');
    expect(other.r.route('writer', 0x1c0n)).toBe('primary');
    other.tick(50);
    other.r.observe(other.at(), 0x1c0n, 0x1bfn);
    expect(other.r.route('writer', 0x1c0n)).toBe('primary');
    other.r.observe(other.at(), 0x1c0n, 0x1c0n);
    expect(other.r.route('writer', 0x1c0n)).toBe('replica');
    tick(1);
    expect(r.route('writer')).toBe('primary'); // the serving instance remembers it by itself
  });

  it('WAL positions print as PostgreSQL prints them and read back', () => {
    for (const s of ['0/0', '0/16B3748', '1A/FFFFFFFF', 'FFFFFFFF/1']) {
      expect(formatLsn(parseLsn(s))).toBe(s);
      expect(LSN_PATTERN.test(s)).toBe(true);
    }
    for (const bad of ['', 'latest', '0/', '/1', '123456789/0', '0/1 ', '-1/0']) expect(LSN_PATTERN.test(bad)).toBe(false);
  });

  it('goes to the primary without a recent good reading, and after markDown', () => {
    const { r, tick, at } = router(1000);
    expect(r.route(null)).toBe('primary'); // never read
    r.observe(at(), 0x100n, 0x100n);
    expect(r.route(null)).toBe('replica');
    r.markDown();
    expect(r.route(null)).toBe('primary');
    r.observe(at(), 0x100n, 0x100n);
    tick(5000);
    expect(r.lagMs()).toBeNull(); // the readings stopped
    expect(r.route(null)).toBe('primary');
  });

  it("a write whose position could not be read keeps the user's reads on the primary until a primary reading taken after it", async () => {
    let now = 1_000_000;
    let fail = true;
    const r = new ReadRouter({
      primary: { query: (async () => { if (fail) throw new Error('connection lost'); return { rows: [{ lsn: '0/500' }] }; }) as never },
      replica: { query: (async () => ({ rows: [{ lsn: '0/100' }] })) as never },
      maxLagMs: 60_000,
      now: () => now,
    });
    r.observe(now, 0x100n, 0x100n);
    await r.noteWrite('u');
    expect(r.route('u')).toBe('primary');
    r.observe(now - 1, 0x100n, 0x100n); // a reading from before the write does not resolve it
    expect(r.route('u')).toBe('primary');
    now += 10;
    r.observe(now, 0x500n, 0x400n); // taken after the write: the write is at or below 0x500
    expect(r.route('u')).toBe('primary');
    r.observe(now, 0x500n, 0x500n);
    expect(r.route('u')).toBe('replica');
    fail = false;
  });
});
