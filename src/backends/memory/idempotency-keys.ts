export interface IdempotencyEntry {
  vmId: string;
  fingerprint: string;
  expiresAt: number;
}

/**
 * Idempotency-Keys and the VM each created, for `ttlMs` and never more than `max` at once. A Map
 * whose insertion order is the keys' expiry order (a reused key is re-inserted, not overwritten),
 * so expiry stops at the first live key and the cap drops the oldest first.
 */
export class IdempotencyKeys {
  private readonly entries = new Map<string, IdempotencyEntry>();

  constructor(
    private readonly ttlMs: number,
    private readonly max: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  remember(key: string, vmId: string, fingerprint: string, now: number): void {
    this.entries.delete(key);
    this.entries.set(key, { vmId, fingerprint, expiresAt: now + this.ttlMs });
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.max) break;
      this.entries.delete(oldest);
    }
  }

  find(key: string): IdempotencyEntry | undefined {
    return this.entries.get(key);
  }

  /** Forgets keys past their lifetime; run where keys are used, not on every read. */
  expire(now: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt > now) break;
      this.entries.delete(key);
    }
  }
}
