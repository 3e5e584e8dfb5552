// A circuit breaker for the service's database access (seed 003 §4.1, Summary #3): when the database or the
// pooler in front of it is unreachable, requests fail at once with 503 instead of each waiting for its own
// connection attempt, and the service recovers by itself once the database is back.
//   closed     requests go to the database; `threshold` unreachable-failures in a row open the breaker
//   open       requests fail fast (503 unavailable, Retry-After = time left) for `openMs`
//   half-open  after that, one request at a time is let through as a trial: success closes the breaker,
//              failure opens it again for twice as long (up to `maxOpenMs`)
// Only connection-level failures count (errors.ts isUnreachable); a database that answers, even with an error
// or a statement timeout, is reachable and resets the count.
import { HttpError } from './errors.js';

export interface BreakerOptions {
  threshold?: number;
  openMs?: number;
  maxOpenMs?: number;
  now?: () => number;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private openFor: number;
  private trialInFlight = false;
  private opened = false;
  readonly threshold: number;
  readonly baseOpenMs: number;
  readonly maxOpenMs: number;
  private readonly now: () => number;

  constructor(o: BreakerOptions = {}) {
    this.threshold = o.threshold ?? 3;
    this.baseOpenMs = o.openMs ?? 1000;
    this.maxOpenMs = o.maxOpenMs ?? 10_000;
    this.openFor = this.baseOpenMs;
    this.now = o.now ?? Date.now;
  }

  get state(): BreakerState {
    if (!this.opened) return 'closed';
    return this.now() - this.openedAt >= this.openFor ? 'half-open' : 'open';
  }

  /** Before a database call: throws 503 while open (or while another trial runs); returns a settle function. */
  enter(): (outcome: 'ok' | 'unreachable' | 'other') => void {
    const state = this.state;
    if (state === 'open' || (state === 'half-open' && this.trialInFlight)) {
      const left = state === 'open' ? this.openFor - (this.now() - this.openedAt) : 1000;
      throw new HttpError(503, 'unavailable', 'the database is unavailable: retry later', { 'retry-after': String(Math.max(1, Math.ceil(left / 1000))) }, { breaker: state });
    }
    const trial = state === 'half-open';
    if (trial) this.trialInFlight = true;
    let settled = false;
    return (outcome) => {
      if (settled) return;
      settled = true;
      if (trial) this.trialInFlight = false;
      if (outcome === 'unreachable') this.failure(trial);
      else this.success();
    };
  }

  private success() {
    this.failures = 0;
    this.opened = false;
    this.openFor = this.baseOpenMs;
  }

  private failure(trial: boolean) {
    this.failures++;
    if (trial) {
      this.openFor = Math.min(this.openFor * 2, this.maxOpenMs);
      this.openedAt = this.now();
    } else if (!this.opened && this.failures >= this.threshold) {
      this.opened = true;
      this.openedAt = this.now();
    }
  }
}
