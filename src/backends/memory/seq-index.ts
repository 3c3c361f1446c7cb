/** Anything ordered by a creation sequence number. */
export interface Sequenced {
  readonly seq: number;
}

/**
 * Items kept sorted by `seq` for cursor paging: finding where a page starts is a binary search, so
 * a page costs the same however many items there are. Appending a new (highest) item is O(1), and
 * so is removing the oldest (what tombstone expiry and the tombstone cap do under churn); removing
 * another one is a binary search plus an array splice (a memmove, microseconds at 100k items).
 */
export class SeqIndex<T extends Sequenced> {
  private items: (T | undefined)[] = [];
  /** Items before this index were removed from the front and are not compacted away yet. */
  private start = 0;

  get size(): number {
    return this.items.length - this.start;
  }

  insert(item: T): void {
    const last = this.items[this.items.length - 1];
    if (this.size === 0 || (last !== undefined && last.seq < item.seq)) {
      this.items.push(item);
      return;
    }
    this.items.splice(this.firstAfter(item.seq - 1), 0, item);
  }

  remove(item: T): void {
    const at = this.firstAfter(item.seq - 1);
    if (this.items[at] !== item) return;
    if (at > this.start) {
      this.items.splice(at, 1);
      return;
    }
    // The oldest: step over it, and compact once half the array is dead.
    this.items[at] = undefined;
    this.start += 1;
    if (this.start > 1024 && this.start * 2 > this.items.length) {
      this.items = this.items.slice(this.start);
      this.start = 0;
    }
  }

  /** Items with seq greater than `after`, in order, lazily. */
  *from(after: number): Generator<T> {
    for (let i = this.firstAfter(after); i < this.items.length; i++) yield this.items[i] as T;
  }

  private firstAfter(seq: number): number {
    let lo = this.start;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.items[mid] as T).seq <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** Merges sorted streams into one sorted by seq; k is small (one stream per status). */
export function* mergeBySeq<T extends Sequenced>(streams: Iterator<T>[]): Generator<T> {
  const heads = streams.map((s) => s.next());
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const head = heads[i] as IteratorResult<T>;
      if (head.done) continue;
      const bestHead = heads[best] as IteratorResult<T> | undefined;
      if (best === -1 || (bestHead && !bestHead.done && head.value.seq < bestHead.value.seq)) best = i;
    }
    if (best === -1) return;
    const chosen = heads[best] as IteratorYieldResult<T>;
    yield chosen.value;
    heads[best] = (streams[best] as Iterator<T>).next();
  }
}
