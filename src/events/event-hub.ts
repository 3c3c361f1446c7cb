/**
 * The one place resource changes fan out to stream subscribers (GET /api/v1/events), with a
 * bounded replay buffer for clients that reconnect with Last-Event-ID.
 *
 * Each event is serialised and encoded to its SSE frame once, when published, so that fanning it out
 * to a thousand subscribers is a thousand writes of the same bytes, not a thousand JSON.stringify
 * and UTF-8 encodings.
 */

/** docs/contract.md section 11: what every event's `data` holds. */
export interface EventData {
  resource: 'vm';
  id: string;
  status: string;
  previous_status: string | null;
  task: string | null;
  /** When the change happened (ISO 8601). */
  at: string;
  /** The request that caused it, when this process served that request. */
  request_id: string | null;
  /** The resource's owner (its tenant's id); a subscriber sees only its own tenant's, an admin every one. */
  tenant: string | null;
}

export interface HubEvent {
  /** Monotonic within this process's life, starting at 1. */
  id: number;
  type: string;
  data: EventData;
  /** Milliseconds (the hub's clock), for pruning the buffer by age. */
  publishedAt: number;
  /** The SSE frame, encoded once (UTF-8) and written as is to every subscriber. */
  frame: Buffer;
}

export interface EventHubOptions {
  /** How many events the replay buffer keeps (0: none). */
  replayCount: number;
  /** How long an event stays replayable, in milliseconds. */
  replayAgeMs: number;
  now?: () => number;
}

export type EventListener = (event: HubEvent) => void;

/**
 * What a new subscriber must write before following the live events: the missed events, or
 * 'reset' when Last-Event-ID reaches back further than the buffer (or into another life of the
 * server), so the client must re-list before following.
 */
export type Backlog = { kind: 'events'; events: HubEvent[] } | { kind: 'reset'; lastId: number };

export class EventHub {
  private readonly buffer: HubEvent[] = [];
  private head = 0;
  private lastId = 0;
  private readonly listeners = new Set<EventListener>();
  private readonly now: () => number;

  constructor(private readonly options: EventHubOptions) {
    this.now = options.now ?? Date.now;
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }

  publish(type: string, data: EventData): HubEvent {
    const id = ++this.lastId;
    const event: HubEvent = {
      id,
      type,
      data,
      publishedAt: this.now(),
      frame: Buffer.from(`id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`),
    };
    if (this.options.replayCount > 0) {
      this.buffer.push(event);
      this.prune();
    }
    for (const listener of this.listeners) listener(event);
    return event;
  }

  /**
   * Adds `listener` for every event published from now on, and says what was missed since
   * `lastEventId` (none given: nothing). Synchronous, so no event falls between the two.
   */
  subscribe(listener: EventListener, lastEventId?: number): { backlog: Backlog; unsubscribe: () => void } {
    this.listeners.add(listener);
    return { backlog: this.backlogSince(lastEventId), unsubscribe: () => this.listeners.delete(listener) };
  }

  private backlogSince(lastEventId: number | undefined): Backlog {
    if (lastEventId === undefined || lastEventId === this.lastId) return { kind: 'events', events: [] };
    this.prune();
    const oldest = this.buffer[this.head];
    // Ahead of this process (an id from before a restart), or older than what is kept.
    if (lastEventId > this.lastId || oldest === undefined || lastEventId < oldest.id - 1) {
      return { kind: 'reset', lastId: this.lastId };
    }
    return { kind: 'events', events: this.buffer.slice(this.head + (lastEventId - oldest.id + 1)) };
  }

  private prune(): void {
    const { replayCount, replayAgeMs } = this.options;
    const oldestKept = this.now() - replayAgeMs;
    while (this.head < this.buffer.length) {
      const event = this.buffer[this.head] as HubEvent;
      if (this.buffer.length - this.head <= replayCount && event.publishedAt >= oldestKept) break;
      this.head += 1;
    }
    // Compact once the dropped prefix is as long as what is kept: amortised O(1) per event.
    if (this.head > 0 && this.head >= this.buffer.length - this.head) {
      this.buffer.splice(0, this.head);
      this.head = 0;
    }
  }
}
