import type { ReadinessCheck, Revocations, SharedState } from './shared-state.js';

/** The shared state of a single process: claims in a Map with their expiry. */
export class InProcessState implements SharedState {
  readonly name = 'process';
  private readonly claims = new Map<string, number>();
  private readonly revoked = new Set<string>();
  readonly revocations: Revocations = {
    revoke: async (keyId) => void this.revoked.add(keyId),
    has: (keyId) => this.revoked.has(keyId),
  };

  constructor(private readonly now: () => number = Date.now) {}

  async claim(key: string, ttlMs: number): Promise<boolean> {
    return this.claimNow(key, ttlMs);
  }

  /**
   * Synchronous, so that two requests in this process cannot both take a key between two awaits.
   * Expired claims are dropped when met (a holder always releases; expiry only covers a bug).
   */
  claimNow(key: string, ttlMs: number): boolean {
    const until = this.claims.get(key);
    if (until !== undefined && until > this.now()) return false;
    this.claims.set(key, this.now() + ttlMs);
    return true;
  }

  async release(key: string): Promise<void> {
    this.claims.delete(key);
  }

  /** Forgotten at once: the Map must not keep a claim per key until someone meets it again. */
  finish(key: string): void {
    this.claims.delete(key);
  }

  async check(): Promise<ReadinessCheck | undefined> {
    return undefined;
  }

  async close(): Promise<void> {
    this.claims.clear();
  }
}
