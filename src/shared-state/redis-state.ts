import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import type { Logger } from 'pino';
import { ApiError } from '../domain/errors.js';
import type { ApiKey } from '../domain/tenancy.js';
import type { HitCounter, KeyRecords, ReadinessCheck, Revocations, SharedEventLog, SharedState } from './shared-state.js';

/** Every key this API writes starts with it, so one Redis can serve other things too. */
const PREFIX = 'vmapi:';

/** Deletes a claim only if it is still this caller's (an expired one may be someone else's by now). */
const RELEASE_IF_OURS = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

/**
 * One hit in a fixed window, in one round trip: INCR, and the window's expiry set by the first hit
 * (or by any hit that finds the key without one). Sent with EVAL each time, never loaded at start-up:
 * a script loaded while Redis was down would stay rejected (BACKLOG.md, issue 12).
 */
const HIT =
  "local n = redis.call('INCR', KEYS[1]) local ttl = redis.call('PTTL', KEYS[1]) " +
  "if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end return {n, ttl}";

/** The shared set of revoked key ids, and the channel that announces each new one. */
const REVOKED = `${PREFIX}revoked-keys`;
const REVOKED_CHANNEL = `${PREFIX}revocations`;
/** Key records: secret hash -> key, and key id -> key (JSON; never a secret). */
const KEYS_BY_HASH = `${PREFIX}keys:by-hash`;
const KEYS_BY_ID = `${PREFIX}keys:by-id`;

/** The event stream (XADD / XREAD), and the once-keys that dedupe its entries. */
const EVENTS = `${PREFIX}events`;
const EVENT_ONCE_TTL_MS = 10 * 60_000;
/** SET NX PX and, only if it took the key, XADD: one round trip per event. */
const APPEND_ONCE =
  "if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[4]) then " +
  "return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'type', ARGV[2], 'data', ARGV[3]) end return false";

export interface RedisStateOptions {
  url: string;
  logger: Logger;
  /** How long a command may take before it counts as a failure. */
  commandTimeoutMs?: number;
  /** How often the local revocation Set is resynced from Redis (a lost message heals within it). */
  resyncMs?: number;
}

const unreachable = (cause: unknown) =>
  new ApiError('BACKEND_UNAVAILABLE', 'The shared state (Redis) cannot be reached; retry later', { upstream: 'unreachable' }, { cause });

/**
 * The shared state on a Redis-protocol server, through node-redis (the client Redis itself keeps
 * and recommends; typed, and its `disableOfflineQueue` makes a command fail at once while the
 * connection is down instead of queueing it, which is what failing closed needs).
 *
 * Unreachable at start-up or later: the process runs; it reconnects in the background (every
 * 100 ms to 2 s), /readyz says `redis` is down, and each use decides (ARCHITECTURE.md).
 */
export class RedisState implements SharedState, HitCounter, KeyRecords, SharedEventLog {
  readonly name = 'redis';
  readonly events: SharedEventLog = this;
  /** Blocks in XREAD (a blocked connection can do nothing else); made when first followed. */
  private reader: ReturnType<RedisState['newConnection']> | undefined;
  private closed = false;
  readonly hits: HitCounter = this;
  readonly keys: KeyRecords = this;
  readonly revocations: Revocations = {
    revoke: (keyId) => this.revoke(keyId),
    has: (keyId) => this.revoked.has(keyId),
  };
  private readonly revoked = new Set<string>();
  private readonly client;
  /** Subscribed to the revocation channel (a subscribed connection can do nothing else). */
  private readonly subscriber;
  private resyncTimer: NodeJS.Timeout | undefined;
  private readonly tokens = new Map<string, string>();
  private lastError: string | undefined;
  private errorLogged = false;

  constructor(private readonly options: RedisStateOptions) {
    const timeout = options.commandTimeoutMs ?? 2_000;
    this.client = createClient({
      url: options.url,
      disableOfflineQueue: true,
      socket: { connectTimeout: timeout, reconnectStrategy: (retries: number) => Math.min(100 * (retries + 1), 2_000) },
    });
    // Without a listener an 'error' event would throw; one line per outage, not one per retry.
    this.client.on('error', (error: Error) => {
      this.lastError = error.message || (error as NodeJS.ErrnoException).code || 'error';
      if (this.errorLogged) return;
      this.errorLogged = true;
      options.logger.warn({ event: 'redis.unreachable', error: this.lastError }, 'Redis (shared state) cannot be reached; reconnecting');
    });
    this.client.on('ready', () => {
      if (this.errorLogged) options.logger.info({ event: 'redis.reconnected' }, 'Redis (shared state) reachable again');
      this.errorLogged = false;
      this.lastError = undefined;
      void this.resync();
    });
    this.subscriber = this.newConnection();
  }

  /** Another connection to the same Redis; its errors are the main client's too, which logs them. */
  private newConnection() {
    const connection = this.client.duplicate();
    connection.on('error', () => undefined);
    return connection;
  }

  /** Starts connecting; resolves at once. A Redis down at start-up is retried in the background. */
  start(): void {
    this.client.connect().catch(() => undefined);
    // node-redis subscribes again by itself after a reconnect.
    this.subscriber
      .connect()
      .then(() => this.subscriber.subscribe(REVOKED_CHANNEL, (keyId: string) => void this.revoked.add(keyId)))
      .catch(() => undefined);
    this.resyncTimer = setInterval(() => void this.resync(), this.options.resyncMs ?? 30_000);
    this.resyncTimer.unref();
  }

  private async revoke(keyId: string): Promise<void> {
    await this.run(() => this.client.multi().sAdd(REVOKED, keyId).publish(REVOKED_CHANNEL, keyId).exec());
    this.revoked.add(keyId);
  }

  /** The shared set into the local one (revocations are never undone, so a union is exact). */
  private async resync(): Promise<void> {
    try {
      for (const keyId of await this.run(() => this.client.sMembers(REVOKED))) this.revoked.add(keyId);
    } catch {
      // Down: the next resync (or reconnect) catches up; the local Set still refuses what it knows.
    }
  }

  async append(entry: { type: string; data: string }, options: { maxLen: number; onceKey?: string }): Promise<string | undefined> {
    const maxLen = String(Math.max(1, options.maxLen));
    if (options.onceKey === undefined) {
      return this.run(() => this.client.sendCommand<string>(['XADD', EVENTS, 'MAXLEN', '~', maxLen, '*', 'type', entry.type, 'data', entry.data]));
    }
    const onceKey = `${PREFIX}event-once:${options.onceKey}`;
    const id = await this.run(() =>
      this.client.eval(APPEND_ONCE, { keys: [EVENTS, onceKey], arguments: [maxLen, entry.type, entry.data, String(EVENT_ONCE_TTL_MS)] }),
    );
    return typeof id === 'string' ? id : undefined;
  }

  follow(onEntry: (id: string, entry: { type: string; data: string }, backlog: boolean) => void): void {
    const reader = (this.reader ??= this.newConnection());
    reader.connect().catch(() => undefined);
    void (async () => {
      let last = '0-0';
      let backlog = true;
      // Entries appended before this process followed are its backlog (kept, not sent to anyone live).
      const startedAt = Date.now();
      while (!this.closed) {
        if (!reader.isReady) {
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        try {
          // The first read takes the whole kept window at once (the backlog); then block for news.
          const reply = await reader.sendCommand<[string, [string, string[]][]][] | null>(
            backlog ? ['XREAD', 'COUNT', '100000', 'STREAMS', EVENTS, last] : ['XREAD', 'COUNT', '1000', 'BLOCK', '5000', 'STREAMS', EVENTS, last],
          );
          for (const [id, fields] of reply?.[0]?.[1] ?? []) {
            last = id;
            const field = (name: string) => fields[fields.indexOf(name) + 1] ?? '';
            try {
              onEntry(id, { type: field('type'), data: field('data') }, backlog && Number(id.split('-')[0]) < startedAt);
            } catch (error) {
              this.options.logger.warn({ event: 'events.bad_entry', stream_id: id, error: (error as Error).message }, 'an event on the shared stream could not be read; skipped');
            }
          }
          backlog = false;
        } catch {
          if (!this.closed) await new Promise((r) => setTimeout(r, 100));
        }
      }
    })();
  }

  async put(record: { key: ApiKey; hash: string }): Promise<void> {
    const json = JSON.stringify(record.key);
    await this.run(() => this.client.multi().hSet(KEYS_BY_HASH, record.hash, json).hSet(KEYS_BY_ID, record.key.id, json).exec());
  }

  async byHash(hash: string): Promise<ApiKey | undefined> {
    const json = await this.run(() => this.client.hGet(KEYS_BY_HASH, hash));
    return json ? (JSON.parse(json) as ApiKey) : undefined;
  }

  async byId(id: string): Promise<ApiKey | undefined> {
    const json = await this.run(() => this.client.hGet(KEYS_BY_ID, id));
    return json ? (JSON.parse(json) as ApiKey) : undefined;
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const token = randomBytes(12).toString('base64url');
    const answer = await this.run(() => this.client.set(PREFIX + key, token, { condition: 'NX', expiration: { type: 'PX', value: ttlMs } }));
    if (answer !== 'OK') return false;
    this.tokens.set(key, token);
    return true;
  }

  /** Left on Redis until its expiry (no command): a retry meeting it finds the VM by its key. */
  finish(key: string): void {
    this.tokens.delete(key);
  }

  async release(key: string): Promise<void> {
    const token = this.tokens.get(key);
    if (token === undefined) return;
    this.tokens.delete(key);
    // A release that fails leaves the claim to its expiry; the request's own answer is not at stake.
    await this.run(() => this.client.eval(RELEASE_IF_OURS, { keys: [PREFIX + key], arguments: [token] })).catch((error: unknown) => {
      this.options.logger.warn({ event: 'redis.release_failed', error: (error as Error).message }, 'could not release a claim; it expires by itself');
    });
  }

  async hit(key: string, windowMs: number): Promise<{ hits: number; resetAt: number }> {
    const [hits, ttl] = (await this.run(() => this.client.eval(HIT, { keys: [PREFIX + key], arguments: [String(windowMs)] }))) as [number, number];
    return { hits, resetAt: Date.now() + ttl };
  }

  async unhit(key: string): Promise<void> {
    await this.run(() => this.client.decr(PREFIX + key));
  }

  async resetHits(key: string): Promise<void> {
    await this.run(() => this.client.del(PREFIX + key));
  }

  async check(): Promise<ReadinessCheck> {
    try {
      await this.run(() => this.client.ping());
      return { name: 'redis', ok: true, detail: 'PONG' };
    } catch {
      return { name: 'redis', ok: false, detail: `unreachable${this.lastError ? `: ${this.lastError}` : ''}` };
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.resyncTimer);
    // Blocked in XREAD: nothing to wait for.
    try {
      this.reader?.destroy();
    } catch {
      // Never connected.
    }
    if (this.subscriber.isOpen) await this.subscriber.close().catch(() => this.subscriber.destroy());
    else this.subscriber.destroy();
    if (this.client.isOpen) await this.client.close().catch(() => this.client.destroy());
    else this.client.destroy();
  }

  /** A command, bounded in time, whose failure is BACKEND_UNAVAILABLE. */
  private async run<T>(command: () => Promise<T>): Promise<T> {
    if (!this.client.isReady) throw unreachable(new Error(this.lastError ?? 'not connected'));
    const timeoutMs = this.options.commandTimeoutMs ?? 2_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        command(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (error) {
      throw error instanceof ApiError ? error : unreachable(error);
    } finally {
      clearTimeout(timer);
    }
  }
}
