/**
 * Deleted VMs, kept for a while so that GET answers DELETED rather than 404 and lists can show
 * them: for `retentionMs`, and never more than `max` at once (churn would otherwise grow memory
 * without bound). A queue in the order they were made, which is also the order they expire in, so
 * both limits drop the oldest first; `forget` is called for each one that leaves.
 */
export class Tombstones<T> {
  private readonly queue: { item: T; expiresAt: number }[] = [];
  private head = 0;

  constructor(
    private readonly retentionMs: number,
    private readonly max: number,
    private readonly forget: (item: T) => void,
  ) {}

  get size(): number {
    return this.queue.length - this.head;
  }

  add(item: T, now: number): void {
    this.queue.push({ item, expiresAt: now + this.retentionMs });
    while (this.size > this.max) this.dropOldest();
  }

  /** Forgets tombstones past their retention. */
  expire(now: number): void {
    while (this.head < this.queue.length) {
      const oldest = this.queue[this.head] as { item: T; expiresAt: number };
      if (oldest.expiresAt > now) break;
      this.dropOldest();
    }
  }

  private dropOldest(): void {
    const oldest = this.queue[this.head] as { item: T; expiresAt: number };
    this.forget(oldest.item);
    this.head += 1;
    // Shifting one at a time is O(n); compact once half the array is dead.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }
}
