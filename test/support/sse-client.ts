import { request, type ClientRequest, type IncomingMessage } from 'node:http';

export interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
  retry?: string;
  /** Comment lines (": ..."), e.g. heartbeats. */
  comments: string[];
}

/**
 * A minimal Server-Sent Events reader over node:http (not EventSource: the tests need the raw
 * frames, headers and the way the stream ends).
 */
export class SseClient {
  readonly frames: SseFrame[] = [];
  response!: IncomingMessage;
  body = '';
  ended: 'end' | 'error' | undefined;
  private pending = '';
  private readonly waiters = new Set<() => void>();
  private req!: ClientRequest;

  static async open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const client = new SseClient();
    await new Promise<void>((resolve, reject) => {
      client.req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
        client.response = res;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => client.take(chunk));
        res.on('end', () => client.finish('end'));
        res.on('error', () => client.finish('error'));
        res.on('aborted', () => client.finish('error'));
        resolve();
      });
      client.req.on('error', (error) => {
        client.finish('error');
        reject(error);
      });
      client.req.end();
    });
    return client;
  }

  /** The frames that carry an event (not comments-only or retry-only ones). */
  get events(): (SseFrame & { event: string; data: string })[] {
    return this.frames.filter((f): f is SseFrame & { event: string; data: string } => f.event !== undefined && f.data !== undefined);
  }

  /** Resolves once `predicate` holds (checked on every frame), or rejects after `timeoutMs`. */
  async until(predicate: (client: SseClient) => boolean, timeoutMs = 3000): Promise<void> {
    if (predicate(this)) return;
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!predicate(this)) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out; frames so far: ${JSON.stringify(this.frames)}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  async untilEvents(count: number, timeoutMs?: number): Promise<(SseFrame & { event: string; data: string })[]> {
    await this.until((c) => c.events.length >= count, timeoutMs);
    return this.events;
  }

  close(): void {
    this.req.destroy();
  }

  private take(chunk: string): void {
    this.body += chunk;
    this.pending += chunk;
    let end: number;
    while ((end = this.pending.indexOf('\n\n')) >= 0) {
      const block = this.pending.slice(0, end);
      this.pending = this.pending.slice(end + 2);
      const frame: SseFrame = { comments: [] };
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) {
          frame.comments.push(line.slice(1).trim());
          continue;
        }
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id' || field === 'event' || field === 'retry') frame[field] = value;
        if (field === 'data') frame.data = frame.data === undefined ? value : `${frame.data}\n${value}`;
      }
      this.frames.push(frame);
    }
    this.notify();
  }

  private finish(how: 'end' | 'error'): void {
    this.ended ??= how;
    this.notify();
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
