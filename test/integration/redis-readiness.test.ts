import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createBackend } from '../../src/backends/create-backend.js';
import { RedisState } from '../../src/shared-state/redis-state.js';
import { configFrom } from '../support/memory-app.js';
import { RedisServer } from '../support/redis-server.js';

const logger = pino({ level: 'silent' });

describe('/readyz with REDIS_URL', () => {
  let redis: RedisServer;
  let state: RedisState;
  let close: () => void;
  let readyz: () => Promise<{ status: number; body: { checks?: { name: string; ok: boolean }[] } }>;

  beforeAll(async () => {
    redis = await RedisServer.start();
    state = new RedisState({ url: redis.url, logger });
    state.start();
    const config = configFrom({ LOG_LEVEL: 'silent' });
    const app = buildApp({ config, backend: await createBackend(config, logger), logger, sharedState: state });
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    close = () => server.close();
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/readyz`;
    readyz = async () => {
      const answer = await fetch(url);
      return { status: answer.status, body: (await answer.json()) as { checks?: { name: string; ok: boolean }[] } };
    };
  });

  afterAll(async () => {
    close?.();
    await state?.close();
    await redis?.stop();
  });

  it('names redis among the checks: ready while it answers, 503 naming it while it is down, ready again once it is back', async () => {
    await expect.poll(async () => (await readyz()).status, { timeout: 10_000 }).toBe(200);
    expect((await readyz()).body.checks).toContainEqual(expect.objectContaining({ name: 'redis', ok: true }));
    await redis.stop();
    try {
      const down = await readyz();
      expect(down.status).toBe(503);
      expect(down.body.checks).toContainEqual(expect.objectContaining({ name: 'redis', ok: false }));
    } finally {
      await redis.start();
    }
    await expect.poll(async () => (await readyz()).status, { timeout: 10_000, interval: 100 }).toBe(200);
  });
});
