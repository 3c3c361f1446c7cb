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
  resource: 'vm' | 'volume';
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
  /**
   * With REDIS_URL: the event's Redis Stream id (`<ms>-<n>`), the same on every process and the
   * `id:` the stream sends (so Last-Event-ID works after a failover to another process).
   */
  streamId?: string;
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

/** What makes an event: the hub itself, or (REDIS_URL) an append to the shared stream. */
export interface EventPublisher {
  /** `onceKey`: the same key published twice (two processes seeing one settle) makes one event. */
  publish(type: string, data: EventData, onceKey?: string): unknown;
}

/**
 * What a new subscriber must write before following the live events: the missed events, or
 * 'reset' when Last-Event-ID reaches back further than the buffer (or into another life of the
 * server), so the client must re-list before following.
 */
export type Backlog = { kind: 'events'; events: HubEvent[] } | { kind: 'reset'; lastId: number | string };

/** Orders two Redis Stream ids (`<ms>-<n>`). */
export function compareStreamIds(a: string, b: string): number {
  const [am = 0, an = 0] = a.split('-').map(Number);
  const [bm = 0, bn = 0] = b.split('-').map(Number);
  return am - bm || an - bn;
}

export class EventHub {
  private readonly buffer: HubEvent[] = [];
  private head = 0;
  private lastId = 0;
  private readonly listeners = new Set<EventListener>();
  private readonly now: () => number;
  /** Stream mode (REDIS_URL): the newest stream id delivered, and the last one pruned from the buffer. */
  private lastStreamId: string | undefined;
  private prunedStreamId: string | undefined;

  constructor(private readonly options: EventHubOptions) {
    this.now = options.now ?? Date.now;
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }

  publish(type: string, data: EventData): HubEvent {
    return this.fanOut(type, data);
  }

  /**
   * An event read from the shared Redis Stream (every process's, this one's included), with the
   * stream's id: buffered and fanned out as `publish` does, its `id:` the stream id.
   */
  deliver(streamId: string, type: string, data: EventData, options: { quiet?: boolean } = {}): HubEvent {
    this.lastStreamId = streamId;
    return this.fanOut(type, data, streamId, options.quiet);
  }

  private fanOut(type: string, data: EventData, streamId?: string, quiet = false): HubEvent {
    const id = ++this.lastId;
    const event: HubEvent = {
      id,
      ...(streamId !== undefined && { streamId }),
      type,
      data,
      // A stream entry's time is its id's: the same age on every process.
      publishedAt: streamId === undefined ? this.now() : Number(streamId.split('-')[0]),
      frame: Buffer.from(`id: ${streamId ?? id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`),
    };
    if (this.options.replayCount > 0) {
      this.buffer.push(event);
      this.prune();
    }
    if (!quiet) for (const listener of this.listeners) listener(event);
    return event;
  }

  /**
   * Adds `listener` for every event published from now on, and says what was missed since
   * `lastEventId` (none given: nothing). Synchronous, so no event falls between the two.
   */
  subscribe(listener: EventListener, lastEventId?: number | string): { backlog: Backlog; unsubscribe: () => void } {
    this.listeners.add(listener);
    // In stream mode every id is a stream id; a plain number (an id from before REDIS_URL) is then an old one.
    const asked = this.lastStreamId !== undefined && lastEventId !== undefined ? String(lastEventId) : lastEventId;
    const backlog = typeof asked === 'string' ? this.backlogSinceStreamId(asked) : this.backlogSince(asked);
    return { backlog, unsubscribe: () => this.listeners.delete(listener) };
  }

  /** Stream mode: the buffered events after `last`, or reset when it is older than the buffer or unknown. */
  private backlogSinceStreamId(last: string): Backlog {
    const newest = this.lastStreamId;
    if (last === newest) return { kind: 'events', events: [] };
    this.prune();
    const oldest = this.buffer[this.head]?.streamId;
    const reset: Backlog = { kind: 'reset', lastId: newest ?? '0-0' };
    if (newest === undefined || oldest === undefined || compareStreamIds(last, newest) > 0) return reset;
    if (compareStreamIds(last, oldest) < 0 && last !== this.prunedStreamId) return reset;
    // The first buffered event after `last` (binary search: stream ids only go up).
    let low = this.head;
    let high = this.buffer.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareStreamIds((this.buffer[middle] as HubEvent).streamId as string, last) <= 0) low = middle + 1;
      else high = middle;
    }
    return { kind: 'events', events: this.buffer.slice(low) };
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
      this.prunedStreamId = event.streamId;
      this.head += 1;
    }
    // Compact once the dropped prefix is as long as what is kept: amortised O(1) per event.
    if (this.head > 0 && this.head >= this.buffer.length - this.head) {
      this.buffer.splice(0, this.head);
      this.head = 0;
    }
  }
}
