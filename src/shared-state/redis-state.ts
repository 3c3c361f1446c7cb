import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import type { Logger } from 'pino';
import { ApiError } from '../domain/errors.js';
import type { ApiKey } from '../domain/tenancy.js';
import type { HitCounter, KeyRecords, ReadinessCheck, Revocations, SharedState } from './shared-state.js';

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
export class RedisState implements SharedState, HitCounter, KeyRecords {
  readonly name = 'redis';
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
    // Its errors are the main client's too; that one logs them.
    this.subscriber = this.client.duplicate();
    this.subscriber.on('error', () => undefined);
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
    clearInterval(this.resyncTimer);
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
