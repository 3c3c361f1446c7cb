import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { SharedRateLimitStore } from '../../src/http/middleware/shared-rate-store.js';
import { RedisState } from '../../src/shared-state/redis-state.js';
import { RedisServer } from '../support/redis-server.js';
import { sharedApp, type SharedApp } from '../support/redis-apps.js';

const get = (app: SharedApp, key = 'member-key') => fetch(`${app.url}/api/v1/vms`, { headers: { authorization: `Bearer ${key}` } });

describe('rate limits shared through Redis', () => {
  let redis: RedisServer;
  let apps: SharedApp[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterEach(async () => {
    for (const app of apps) await app.close();
    apps = [];
  });
  afterAll(async () => {
    await redis?.stop();
  });

  const two = async (env: Record<string, string>) => {
    apps = [await sharedApp(redis.url, env), await sharedApp(redis.url, env)];
    return apps as [SharedApp, SharedApp];
  };

  it('holds across two processes: a key gets its limit in all, not in each; another key has its own budget', async () => {
    const [a, b] = await two({ RATE_LIMIT_PER_MINUTE: '4', API_KEYS: 'member-key,other-key' });
    const statuses = [];
    for (const app of [a, b, a, b]) statuses.push((await get(app)).status);
    expect(statuses).toEqual([200, 200, 200, 200]);
    const limited = await get(b);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await limited.json()) as { code: string }).code).toBe('RATE_LIMITED');
    expect((await get(a)).status).toBe(429);
    expect((await get(a, 'other-key')).status).toBe(200);
    // The window is Redis's: the headers count down across processes.
    expect((await get(b, 'other-key')).headers.get('ratelimit')).toMatch(/remaining=2/);
  });

  it('fails open while Redis is down (each pass logged), and counts again once it is back', async () => {
    // Keys are counted by id (api-keys-<n>): the third key here has not been used above.
    const [a, b] = await two({ RATE_LIMIT_PER_MINUTE: '2', API_KEYS: 'x,y,member-key' });
    expect((await get(a)).status).toBe(200);
    await redis.stop();
    try {
      for (let i = 0; i < 4; i += 1) expect((await get(i % 2 ? a : b)).status).toBe(200);
      const passed = [...a.logs(), ...b.logs()].filter((l) => l.event === 'rate_limit.store_unavailable');
      expect(passed).toHaveLength(4);
      expect(passed[0]).toMatchObject({ level: 40 });
    } finally {
      await redis.start();
    }
    // A fresh Redis (no persistence): the count starts again, and holds again.
    await expect.poll(async () => (await b.state.check()).ok, { timeout: 10_000 }).toBe(true);
    await expect.poll(async () => (await a.state.check()).ok, { timeout: 10_000 }).toBe(true);
    expect((await get(a)).status).toBe(200);
    expect((await get(b)).status).toBe(200);
    expect((await get(a)).status).toBe(429);
    expect(a.logs().some((l) => l.event === 'redis.reconnected')).toBe(true);
  });

  it('the store counts, takes back and resets a key on Redis, in a window it gets from the limiter', async () => {
    const state = new RedisState({ url: redis.url, logger: pino({ level: 'silent' }) });
    state.start();
    await expect.poll(async () => (await state.check()).ok, { timeout: 10_000 }).toBe(true);
    try {
      const store = new SharedRateLimitStore(state);
      store.init({ windowMs: 5_000 });
      const first = await store.increment('k');
      expect(first.totalHits).toBe(1);
      expect(first.resetTime!.getTime() - Date.now()).toBeGreaterThan(3_000);
      expect(first.resetTime!.getTime() - Date.now()).toBeLessThanOrEqual(5_000);
      expect((await store.increment('k')).totalHits).toBe(2);
      await store.decrement('k');
      expect((await store.increment('k')).totalHits).toBe(2);
      await store.resetKey('k');
      expect((await store.increment('k')).totalHits).toBe(1);
    } finally {
      await state.close();
    }
  });
});
