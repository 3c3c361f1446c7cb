import type { Logger } from 'pino';
import type { HitCounter } from '../../shared-state/shared-state.js';

const WINDOW_MS = 60_000;

/**
 * A budget of failed authentications per client address (docs/contract.md section 8,
 * `AUTH_FAILURES_PER_MINUTE`). A key that cannot be proven is not free: with Keystone a well-formed
 * key id with a wrong secret costs one token request (bcrypt on Keystone's side), and with
 * REDIS_URL an unknown key costs a lookup on Redis. Once an address has failed `perMinute` times
 * in its window, its keyed requests are refused (429) before any lookup, until the window ends.
 *
 * The check is local and synchronous, so a request never waits on Redis for it. With a shared
 * counter (REDIS_URL) the failures are counted on Redis, and a process learns that an address is
 * over budget from the count its own next failure brings back: across N processes an address gets
 * at most `perMinute + N - 1` failed lookups a window.
 */
export class AuthFailureBudget {
  /** Address -> when its refusal ends (ms). */
  private readonly blocked = new Map<string, number>();
  /** Without a shared counter: failures per address in the current minute. */
  private readonly counts = new Map<string, number>();
  private windowEndsAt = 0;

  constructor(
    private readonly perMinute: number,
    private readonly shared?: { hits: HitCounter; logger: Logger },
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether any address may be refused now: cheap, for the common path. */
  get refusing(): boolean {
    if (this.blocked.size === 0) return false;
    this.roll();
    return this.blocked.size > 0;
  }

  /** Seconds until `address` may present a key again; 0 when it may now. */
  retryAfterS(address: string): number {
    const until = this.blocked.get(address);
    if (until === undefined) return 0;
    const left = until - this.now();
    if (left > 0) return Math.ceil(left / 1000);
    this.blocked.delete(address);
    return 0;
  }

  /** Counts one failed authentication of `address`. Never throws: a counter that cannot count lets requests through. */
  async fail(address: string): Promise<void> {
    this.roll();
    let hits: number;
    let resetAt: number;
    if (this.shared) {
      try {
        ({ hits, resetAt } = await this.shared.hits.hit(`auth-failures:${address}`, WINDOW_MS));
      } catch (error) {
        this.shared.logger.warn({ event: 'auth_failures.store_unavailable', error: error instanceof Error ? error.message : String(error) }, 'failed authentication not counted: its store (Redis) cannot be reached');
        return;
      }
    } else {
      hits = (this.counts.get(address) ?? 0) + 1;
      this.counts.set(address, hits);
      resetAt = this.windowEndsAt;
    }
    if (hits >= this.perMinute) this.blocked.set(address, resetAt);
  }

  /**
   * In the process the window is one minute for every address, so that the maps hold only the
   * addresses that failed in the current minute, however many try.
   */
  private roll(): void {
    const now = this.now();
    if (now < this.windowEndsAt) return;
    this.windowEndsAt = now + WINDOW_MS;
    this.counts.clear();
    for (const [address, until] of this.blocked) if (until <= now) this.blocked.delete(address);
  }
}
