import { Fifo } from './fifo.js';

export interface IdempotencyEntry {
  resourceId: string;
  fingerprint: string;
  expiresAt: number;
}

/**
 * Idempotency-Keys and the resource each created, for `ttlMs` and never more than `max` at once, the
 * oldest dropped first by either limit. Keys are also queued in the order they were used, which is
 * their expiry order: finding the oldest by iterating the Map instead costs O(n) once deletions
 * pile up at its front (V8 skips the holes until it rehashes), 100 us a key at 100 000 keys.
 */
export class IdempotencyKeys {
  private readonly entries = new Map<string, IdempotencyEntry>();
  /** A key used again leaves its old record here, stale; skipped when it reaches the front. */
  private order = new Fifo<{ key: string; entry: IdempotencyEntry }>();

  constructor(
    private readonly ttlMs: number,
    private readonly max: number,
  ) {}

  remember(key: string, resourceId: string, fingerprint: string, now: number): void {
    const entry = { resourceId, fingerprint, expiresAt: now + this.ttlMs };
    this.entries.set(key, entry);
    this.order.push({ key, entry });
    while (this.entries.size > this.max) this.dropOldest();
    // Keys used over and over would pile up stale records: rebuild from the live ones.
    if (this.order.size > 2 * this.entries.size + 1024) this.rebuildOrder();
  }

  find(key: string): IdempotencyEntry | undefined {
    return this.entries.get(key);
  }

  /** Forgets keys past their lifetime; run where keys are used, not on every read. */
  expire(now: number): void {
    for (let oldest = this.order.peek(); oldest !== undefined && oldest.entry.expiresAt <= now; oldest = this.order.peek()) {
      this.dropOldest();
    }
  }

  private dropOldest(): void {
    const oldest = this.order.shift();
    if (oldest && this.entries.get(oldest.key) === oldest.entry) this.entries.delete(oldest.key);
  }

  private rebuildOrder(): void {
    const live = [...this.entries].sort(([, a], [, b]) => a.expiresAt - b.expiresAt);
    this.order = new Fifo();
    for (const [key, entry] of live) this.order.push({ key, entry });
  }
}
