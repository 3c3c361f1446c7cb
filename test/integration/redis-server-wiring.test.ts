import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server.js';
import { configFrom } from '../support/memory-app.js';
import { RedisServer } from '../support/redis-server.js';

describe('startServer with REDIS_URL', () => {
  let redis: RedisServer;
  let running: RunningServer | undefined;

  beforeAll(async () => {
    redis = await RedisServer.start();
  });

  afterAll(async () => {
    await running?.shutdown();
    await redis?.stop();
  });

  it('connects to the REDIS_URL it is given: /readyz names redis, ok', async () => {
    running = await startServer(configFrom({ PORT: '0', LOG_LEVEL: 'silent', REDIS_URL: redis.url }), pino({ level: 'silent' }));
    const url = `http://127.0.0.1:${running.port}/readyz`;
    await expect
      .poll(async () => ((await (await fetch(url)).json()) as { checks: { name: string; ok: boolean }[] }).checks, { timeout: 10_000 })
      .toContainEqual(expect.objectContaining({ name: 'redis', ok: true }));
    await running.shutdown();
    running = undefined;
  });
});
