import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { InProcessState } from '../../src/shared-state/in-process-state.js';
import { RedisState } from '../../src/shared-state/redis-state.js';
import { ApiError } from '../../src/domain/errors.js';
import { RedisServer } from '../support/redis-server.js';

const logger = pino({ level: 'silent' });

async function until(predicate: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('InProcessState', () => {
  it('gives a key to one claimer until it is released or expires', async () => {
    let now = 0;
    const state = new InProcessState(() => now);
    expect(await state.claim('k', 1000)).toBe(true);
    expect(await state.claim('k', 1000)).toBe(false);
    await state.release('k');
    expect(await state.claim('k', 1000)).toBe(true);
    now = 1001;
    expect(await state.claim('k', 1000)).toBe(true);
    expect(await state.check()).toBeUndefined();
  });
});

describe('RedisState against a real redis-server', () => {
  let redis: RedisServer;
  let a: RedisState;
  let b: RedisState;

  beforeAll(async () => {
    redis = await RedisServer.start();
    a = new RedisState({ url: redis.url, logger });
    b = new RedisState({ url: redis.url, logger });
    a.start();
    b.start();
    await until(async () => (await a.check()).ok && (await b.check()).ok);
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redis?.stop();
  });

  it('gives a key to exactly one of two processes, and to the other once released', async () => {
    const results = await Promise.all([a.claim('idem:x', 10_000), b.claim('idem:x', 10_000)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const [winner, loser] = results[0] ? [a, b] : [b, a];
    await winner.release('idem:x');
    expect(await loser.claim('idem:x', 10_000)).toBe(true);
    await loser.release('idem:x');
  });

  it('frees a claim whose holder never releases it when its expiry passes (SET NX PX)', async () => {
    expect(await a.claim('idem:expiring', 100)).toBe(true);
    expect(await b.claim('idem:expiring', 100)).toBe(false);
    await new Promise((r) => setTimeout(r, 150));
    expect(await b.claim('idem:expiring', 10_000)).toBe(true);
    // a's late release must not free b's claim.
    await a.release('idem:expiring');
    expect(await a.claim('idem:expiring', 10_000)).toBe(false);
    await b.release('idem:expiring');
  });

  it('fails closed while Redis is down (BACKEND_UNAVAILABLE, readiness names redis) and works again once it is back', async () => {
    await redis.stop();
    const refused = await a.claim('idem:outage', 10_000).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).code).toBe('BACKEND_UNAVAILABLE');
    const check = await a.check();
    expect(check).toMatchObject({ name: 'redis', ok: false });
    await redis.start();
    await until(async () => (await a.check()).ok);
    expect(await a.claim('idem:outage', 10_000)).toBe(true);
    await a.release('idem:outage');
  });
});

describe('RedisState with Redis unreachable from the start', () => {
  it('starts anyway, reports redis not ready and refuses claims', async () => {
    const redis = await RedisServer.start();
    await redis.stop();
    const state = new RedisState({ url: redis.url, logger });
    state.start();
    try {
      expect(await state.check()).toMatchObject({ name: 'redis', ok: false });
      await expect(state.claim('k', 1000)).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    } finally {
      await state.close();
    }
  });
});
