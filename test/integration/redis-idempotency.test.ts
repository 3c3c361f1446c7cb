import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createBackend } from '../../src/backends/create-backend.js';
import type { Backend } from '../../src/repository/backend.js';
import { InProcessState } from '../../src/shared-state/in-process-state.js';
import { RedisState } from '../../src/shared-state/redis-state.js';
import type { SharedState } from '../../src/shared-state/shared-state.js';
import { configFrom } from '../support/memory-app.js';
import { RedisServer } from '../support/redis-server.js';

const logger = pino({ level: 'silent' });
const body = JSON.stringify({ name: 'idem-vm', flavor: 'm1.small', image: 'ubuntu-22.04' });

/**
 * One backend shared by two API processes' apps (as a cloud is), whose creates take 100 ms (as
 * Nova's do), counting them: the window in which a retry reaching the other process would create
 * a second VM unless the claim is shared.
 */
async function slowSharedBackend(): Promise<{ backend: Backend; creates: () => number }> {
  const config = configFrom({ LOG_LEVEL: 'silent' });
  const inner = await createBackend(config, logger);
  let count = 0;
  const vms = new Proxy(inner.vms, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (property === 'create') {
        return async (...args: Parameters<Backend['vms']['create']>) => {
          count += 1;
          await new Promise((r) => setTimeout(r, 100));
          return target.create(...args);
        };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { backend: { ...inner, vms, checkReady: () => inner.checkReady(), close: () => inner.close() } as Backend, creates: () => count };
}

async function listen(backend: Backend, sharedState: SharedState): Promise<{ url: string; server: Server }> {
  const app = buildApp({ config: configFrom({ LOG_LEVEL: 'silent' }), backend, logger, sharedState });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`, server };
}

const post = (url: string, key?: string) =>
  fetch(`${url}/vms`, { method: 'POST', headers: { 'content-type': 'application/json', ...(key && { 'idempotency-key': key }) }, body });

async function sendToBoth(urls: string[], key: string): Promise<number[]> {
  const answers = await Promise.all(urls.flatMap((url) => [post(url, key), post(url, key)]));
  return answers.map((a) => a.status);
}

describe('Idempotency-Key claims shared through Redis', () => {
  let redis: RedisServer;
  const servers: Server[] = [];
  const states: SharedState[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
  });

  afterAll(async () => {
    for (const server of servers) server.close();
    for (const state of states) await state.close();
    await redis?.stop();
  });

  async function twoProcesses(shared: boolean) {
    const { backend, creates } = await slowSharedBackend();
    const urls: string[] = [];
    for (let i = 0; i < 2; i += 1) {
      let state: SharedState = new InProcessState();
      if (shared) {
        const redisState = new RedisState({ url: redis.url, logger });
        redisState.start();
        state = redisState;
        await expect.poll(async () => (await redisState.check()).ok).toBe(true);
      }
      states.push(state);
      const { url, server } = await listen(backend, state);
      servers.push(server);
      urls.push(url);
    }
    return { urls, creates };
  }

  it('without Redis, the same key sent to two processes at once creates twice (what the shared claim prevents)', async () => {
    const { urls, creates } = await twoProcesses(false);
    const statuses = await sendToBoth(urls, 'same-key-local');
    expect(creates()).toBe(2);
    expect(statuses.filter((s) => s === 201)).toHaveLength(2);
  });

  it('with Redis, the same key sent to two processes at once creates exactly one VM; the others are 409 IDEMPOTENCY_KEY_IN_FLIGHT', async () => {
    const { urls, creates } = await twoProcesses(true);
    const statuses = await sendToBoth(urls, 'same-key-shared');
    expect(creates()).toBe(1);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(3);
    // Once the first is done, a retry anywhere replays it.
    const replay = await post(urls[1] as string, 'same-key-shared');
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(creates()).toBe(1);
  });

  it('a finished create leaves its claim to expire (no release sent); a retry meeting it replays, another body is 422', async () => {
    const { urls, creates } = await twoProcesses(true);
    const [a, b] = urls as [string, string];
    expect((await post(a, 'finished-key')).status).toBe(201);
    const probe = createClient({ url: redis.url });
    await probe.connect();
    try {
      expect(await probe.pTTL('vmapi:idem:default:finished-key')).toBeGreaterThan(0);
    } finally {
      await probe.close();
    }
    const replay = await post(b, 'finished-key');
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    const other = await fetch(`${b}/vms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'finished-key' },
      body: JSON.stringify({ name: 'another', flavor: 'm1.small', image: 'ubuntu-22.04' }),
    });
    expect(other.status).toBe(422);
    expect(((await other.json()) as { code: string }).code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(creates()).toBe(1);
  });

  it('with Redis down, a create with a key is refused with 503 BACKEND_UNAVAILABLE and creates nothing; one without a key still works; back up, keys work again', async () => {
    const { urls, creates } = await twoProcesses(true);
    const url = urls[0] as string;
    await redis.stop();
    try {
      const refused = await post(url, 'key-during-outage');
      expect(refused.status).toBe(503);
      expect(refused.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(await refused.json()).toMatchObject({ code: 'BACKEND_UNAVAILABLE', upstream: 'unreachable' });
      expect(creates()).toBe(0);
      expect((await post(url)).status).toBe(201);
    } finally {
      await redis.start();
    }
    await expect.poll(async () => (await post(url, 'key-after-outage')).status, { timeout: 10_000, interval: 100 }).toBe(201);
  });
});
