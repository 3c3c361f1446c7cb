import type { ApiKey } from '../domain/tenancy.js';

/**
 * The port for state that several API processes must share to behave as one (docs/contract.md
 * section 12). Without REDIS_URL it lives in the process (`InProcessState`, the behaviour of a
 * single process); with it, on a Redis-protocol server (`RedisState`).
 */
export interface ReadinessCheck {
  name: string;
  ok: boolean;
  detail?: string;
}

/** Fixed-window hit counters (the rate limit's store when several processes share one Redis). */
export interface HitCounter {
  /** Counts one hit on `key`; the window starts with the first hit and lasts `windowMs`. */
  hit(key: string, windowMs: number): Promise<{ hits: number; resetAt: number }>;
  /** Takes one hit back (express-rate-limit's skipFailedRequests and the like). */
  unhit(key: string): Promise<void>;
  /** Forgets `key`'s window. */
  resetHits(key: string): Promise<void>;
}

/**
 * Revoked key ids. `has` is synchronous and local, so a request never waits on Redis for it: with
 * Redis each process keeps a Set fed by a channel and resynced from the shared set every 30 s.
 */
export interface Revocations {
  /** Revokes `keyId` everywhere; throws BACKEND_UNAVAILABLE when that cannot be recorded. */
  revoke(keyId: string): Promise<void>;
  has(keyId: string): boolean;
}

/** Key records (never a secret: only its SHA-256) shared so that a key made on one process works on all. */
export interface KeyRecords {
  put(record: { key: ApiKey; hash: string }): Promise<void>;
  byHash(hash: string): Promise<ApiKey | undefined>;
  byId(id: string): Promise<ApiKey | undefined>;
}

/** A shared, bounded log of events (a Redis Stream): the replay buffer and fan-out of every process. */
export interface SharedEventLog {
  /**
   * Appends an entry (trimmed to about `maxLen`), unless `onceKey` was appended in the last 10
   * minutes: the entry's id, or undefined for such a duplicate. Throws when Redis cannot be reached.
   */
  append(entry: { type: string; data: string }, options: { maxLen: number; onceKey?: string }): Promise<string | undefined>;
  /**
   * Reads every entry, from the oldest kept on, in order, until close: `backlog` is true for the
   * entries that were there when following started. Redis down: it retries, then goes on from
   * the last entry read.
   */
  follow(onEntry: (id: string, entry: { type: string; data: string }, backlog: boolean) => void): void;
}

export interface SharedState {
  /** `process` or `redis`. */
  readonly name: string;
  /**
   * Takes `key` for `ttlMs` unless someone holds it already: true when this caller took it. The
   * expiry frees a claim whose holder died. Throws BACKEND_UNAVAILABLE when it cannot be decided
   * (Redis unreachable): a caller must then refuse rather than guess.
   */
  claim(key: string, ttlMs: number): Promise<boolean>;
  /** Gives back a claim this caller took (its work failed: someone may try again at once). */
  release(key: string): Promise<void>;
  /**
   * The claimed work is done and its result can be found by whoever meets the claim (the VM with
   * this key exists), so the claim may stay until it expires: with Redis this sends nothing, which
   * keeps a keyed create at one extra round trip (the claim).
   */
  finish(key: string): void;
  /** For /readyz: undefined when there is nothing to check (in the process). */
  check(): Promise<ReadinessCheck | undefined>;
  close(): Promise<void>;
  /** Shared hit counters; absent in the process, where express-rate-limit's own MemoryStore serves. */
  readonly hits?: HitCounter;
  readonly revocations: Revocations;
  /** Shared key records; absent in the process, where the tenant directory alone knows the keys. */
  readonly keys?: KeyRecords;
  /** The shared event log; absent in the process, where the EventHub alone is the buffer. */
  readonly events?: SharedEventLog;
}
