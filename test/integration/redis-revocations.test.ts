import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer } from '../support/redis-server.js';
import { sharedApp, type SharedApp } from '../support/redis-apps.js';

const ADMIN = 'admin-secret-for-tests-0123456789abcdef';
const env = { AUTH_MODE: 'keys', ADMIN_API_KEY: ADMIN };

const call = (app: SharedApp, path: string, key: string, init: RequestInit = {}) =>
  fetch(`${app.url}/api/v1${path}`, { ...init, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...init.headers } });

async function makeKey(app: SharedApp, body: Record<string, unknown> = {}): Promise<{ id: string; secret: string }> {
  const made = await call(app, '/keys', ADMIN, { method: 'POST', body: JSON.stringify({ name: 'shared', role: 'member', ...body }) });
  expect(made.status).toBe(201);
  return (await made.json()) as { id: string; secret: string };
}

describe('keys and revocations shared through Redis', () => {
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

  const three = async (extra: Record<string, string> = {}) => {
    apps = await Promise.all([0, 1, 2].map(() => sharedApp(redis.url, { ...env, ...extra })));
    return apps as [SharedApp, SharedApp, SharedApp];
  };

  it('a key made on one process works on the others; revoked on one, it is refused on all at once', async () => {
    const [a, b, c] = await three();
    const key = await makeKey(a);
    for (const app of [a, b, c]) expect((await call(app, '/whoami', key.secret)).status).toBe(200);
    expect(((await (await call(b, `/keys/${key.id}`, ADMIN)).json()) as { id: string }).id).toBe(key.id);

    expect((await call(a, `/keys/${key.id}`, ADMIN, { method: 'DELETE' })).status).toBe(200);
    for (const app of [a, b, c]) {
      await expect.poll(async () => (await call(app, '/whoami', key.secret)).status, { timeout: 5_000, interval: 20 }).toBe(401);
    }
    // No secret and nothing but its hash on Redis, and nowhere in the logs.
    for (const app of apps) expect(JSON.stringify(app.logs())).not.toContain(key.secret);
  });

  it('revoked through another process than the one that made it', async () => {
    const [a, b, c] = await three();
    const key = await makeKey(a);
    expect((await call(c, `/keys/${key.id}`, ADMIN, { method: 'DELETE' })).status).toBe(200);
    for (const app of [a, b, c]) await expect.poll(async () => (await call(app, '/whoami', key.secret)).status, { timeout: 5_000 }).toBe(401);
  });

  it('an expired shared key is refused on the other processes too', async () => {
    const [a, b] = await three();
    const key = await makeKey(a, { expires_at: new Date(Date.now() + 1_500).toISOString() });
    expect((await call(b, '/whoami', key.secret)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1_600));
    expect((await call(b, '/whoami', key.secret)).status).toBe(401);
  });

  it('a revocation whose message was lost is healed by the periodic resync', async () => {
    const [a, b] = await three();
    const key = await makeKey(a);
    expect((await call(b, '/whoami', key.secret)).status).toBe(200);
    // Recorded on Redis behind the processes' backs: no message, only the set.
    await (a.state as unknown as { client: { sAdd(k: string, v: string): Promise<number> } }).client.sAdd('vmapi:revoked-keys', key.id);
    expect((await call(b, '/whoami', key.secret)).status).toBe(200);
    await (b.state as unknown as { resync(): Promise<void> }).resync();
    expect((await call(b, '/whoami', key.secret)).status).toBe(401);
  });

  it('with Redis down, making or revoking a key is 503 and changes nothing; keys known to a process still work there', async () => {
    const [a, b] = await three();
    const key = await makeKey(a);
    expect((await call(b, '/whoami', key.secret)).status).toBe(200);
    await redis.stop();
    try {
      const refused = await call(a, `/keys/${key.id}`, ADMIN, { method: 'DELETE' });
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as { code: string }).code).toBe('BACKEND_UNAVAILABLE');
      const notMade = await call(a, '/keys', ADMIN, { method: 'POST', body: JSON.stringify({ name: 'down', role: 'member' }) });
      expect(notMade.status).toBe(503);
      expect(((await (await call(a, '/keys', ADMIN)).json()) as { data: { name: string }[] }).data.map((k) => k.name)).not.toContain('down');
      for (const app of [a, b]) expect((await call(app, '/whoami', key.secret)).status).toBe(200);
      // A key this process has never seen cannot be looked up: 503, not a misleading 401.
      const unknown = await call(b, '/whoami', 'vmk_never-made');
      expect(unknown.status).toBe(503);
      expect(((await unknown.json()) as { code: string }).code).toBe('BACKEND_UNAVAILABLE');
    } finally {
      await redis.start();
    }
    await expect.poll(async () => (await a.state.check()).ok, { timeout: 10_000 }).toBe(true);
  });
});
