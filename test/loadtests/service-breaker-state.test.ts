// The circuit breaker's state machine (loadtests/service/breaker.ts) on a fake clock; the real thing against a
// stopped pooler is test/loadtests/service-breaker.test.ts.
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../loadtests/service/breaker.js';
import { HttpError } from '../../loadtests/service/errors.js';

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
