// The database-error mapping (what trips the breaker, what is only slow) and the circuit breaker's state machine (loadtests/service/breaker.ts) on a fake clock; the real thing against a
// stopped pooler is test/loadtests/service-breaker.test.ts.
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../loadtests/service/breaker.js';
import { HttpError, isUnreachable, mapError, retryAfterSeconds } from '../../loadtests/service/errors.js';

describe('circuit breaker states', () => {
  it('opens after the threshold of unreachable failures in a row, fails fast with Retry-After, lets one trial through, backs off, and closes on success', () => {
    let now = 0;
    const b = new CircuitBreaker({ threshold: 3, openMs: 1000, maxOpenMs: 4000, now: () => now });
    b.enter()('unreachable');
    b.enter()('other'); // the database answered: the count starts again
    for (let i = 0; i < 2; i++) b.enter()('unreachable');
    expect(b.state).toBe('closed');
    b.enter()('unreachable');
    expect(b.state).toBe('open');
    let refused: unknown;
    try {
      b.enter();
    } catch (e) {
      refused = e;
    }
    expect(refused).toBeInstanceOf(HttpError);
    expect((refused as HttpError).status).toBe(503);
    expect((refused as HttpError).headers['retry-after']).toBe('1');
    now = 1000;
    expect(b.state).toBe('half-open');
    const trial = b.enter();
    expect(() => b.enter()).toThrow(HttpError); // one trial at a time
    trial('unreachable');
    expect(b.state).toBe('open');
    now = 2999;
    expect(b.state).toBe('open'); // twice as long: 2000 ms
    now = 3000;
    b.enter()('unreachable');
    now = 6999;
    expect(b.state).toBe('open'); // capped at maxOpenMs 4000
    now = 7000;
    b.enter()('ok');
    expect(b.state).toBe('closed');
    b.enter()('unreachable');
    expect(b.state).toBe('closed'); // counts from zero again, and the open time is back to 1000
  });
});

describe('database errors: what the client gets, and what counts as unreachable', () => {
  const pgErr = (code: string | undefined, message: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(message), { code, ...extra });
  it.each([
    ['PgBouncer: server login failing', pgErr('08P01', 'server login has been failing, try again later (server_login_retry)'), 503, 'unavailable', true],
    ['connection refused', pgErr('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:6432'), 503, 'unavailable', true],
    ['server shutting down', pgErr('57P01', 'terminating connection due to administrator command'), 503, 'unavailable', true],
    ["PgBouncer's query_timeout (a slow query, not a lost database)", pgErr('08P01', 'query_timeout'), 503, 'timeout', false],
    ['statement timeout', pgErr('57014', 'canceling statement due to statement timeout'), 503, 'timeout', false],
    ['client-side query bound', pgErr(undefined, 'Query read timeout'), 503, 'timeout', false],
    ['pool wait', pgErr(undefined, 'timeout exceeded when trying to connect'), 503, 'timeout', false],
    ['NUL', pgErr('22021', 'invalid byte sequence for encoding "UTF8": 0x00'), 400, 'invalid_request', false],
    ['unique', pgErr('23505', 'duplicate key value violates unique constraint "x_key"', { constraint: 'x_key', table: 'x' }), 409, 'conflict', false],
    ['a defect', new TypeError('cannot read x of undefined'), 500, 'internal', false],
  ] as const)('%s', (_what, e, status, code, unreachable) => {
    const h = mapError(e);
    expect([h.status, h.code]).toEqual([status, code]);
    expect(isUnreachable(e)).toBe(unreachable);
    expect(h.message).not.toMatch(/x_key|SQLSTATE|0x00|127\.0\.0\.1|ECONN|query_timeout|undefined/);
  });

  it("a 429's Retry-After comes from the database's hint", () => {
    const now = Date.parse('2026-12-06T10:00:00Z');
    expect(retryAfterSeconds('retry after 2026-12-06 10:00:02.5+00', now)).toBe(3);
    expect(retryAfterSeconds(undefined, now)).toBe(1);
    expect(mapError(pgErr('P0429', 'rate limit', { hint: 'retry after 2026-01-01 00:00:00+00' })).headers['retry-after']).toBe('1');
  });
});
