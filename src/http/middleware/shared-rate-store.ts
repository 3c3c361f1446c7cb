import type { ClientRateLimitInfo, Store } from 'express-rate-limit';
import type { HitCounter } from '../../shared-state/shared-state.js';

/**
 * express-rate-limit's `Store` over the shared hit counters (REDIS_URL), so that the limit holds
 * across every process on one Redis. Written here rather than taken from `rate-limit-redis`: it is
 * a few lines over the client the API has already, and sends its script with each call (EVAL)
 * instead of loading it once at start-up, where a Redis that was down would leave it broken.
 *
 * A failing call throws; the limiter's `passOnStoreError` then lets the request through, logged.
 */
export class SharedRateLimitStore implements Store {
  readonly localKeys = false;
  readonly prefix = 'rate:';
  private windowMs = 60_000;

  constructor(private readonly counter: HitCounter) {}

  init(options: { windowMs: number }): void {
    this.windowMs = options.windowMs;
  }

  async increment(key: string): Promise<ClientRateLimitInfo> {
    const { hits, resetAt } = await this.counter.hit(this.prefix + key, this.windowMs);
    return { totalHits: hits, resetTime: new Date(resetAt) };
  }

  async decrement(key: string): Promise<void> {
    await this.counter.unhit(this.prefix + key);
  }

  async resetKey(key: string): Promise<void> {
    await this.counter.resetHits(this.prefix + key);
  }
}
