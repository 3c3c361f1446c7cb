import { Fifo } from './fifo.js';

/**
 * Deleted VMs, kept for a while so that GET answers DELETED rather than 404 and lists can show
 * them: for `retentionMs`, and never more than `max` at once (churn would otherwise grow memory
 * without bound). A queue in the order they were made, which is also the order they expire in, so
 * both limits drop the oldest first; `forget` is called for each one that leaves.
 */
export class Tombstones<T> {
  private readonly queue = new Fifo<{ item: T; expiresAt: number }>();

  constructor(
    private readonly retentionMs: number,
    private readonly max: number,
    private readonly forget: (item: T) => void,
  ) {}

  add(item: T, now: number): void {
    this.queue.push({ item, expiresAt: now + this.retentionMs });
    while (this.queue.size > this.max) this.dropOldest();
  }

  /** Forgets tombstones past their retention. */
  expire(now: number): void {
    for (let oldest = this.queue.peek(); oldest !== undefined && oldest.expiresAt <= now; oldest = this.queue.peek()) {
      this.dropOldest();
    }
  }

  private dropOldest(): void {
    const oldest = this.queue.shift();
    if (oldest) this.forget(oldest.item);
  }
}
