import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idempotencyTag } from '../../src/backends/openstack/marks.js';
import type { Connection } from '../../src/openstack/index.js';
import { callApi as call, launchApi, stopAllApis, type ApiProcess } from '../support/api-process.js';
import { RedisServer } from '../support/redis-server.js';
import { SseClient } from '../support/sse-client.js';
import { catalogNames, demoConnection, demoEnv } from './mini-openstack.js';

const ADMIN = 'three-processes-admin-key-0123456789abcdef';
const RATE = 25;

/**
 * docs/contract.md section 12 on the local cloud: three real API processes (src/main.ts, each its
 * own Node process) on BACKEND=openstack and one redis-server, as docs/deploy.md runs them.
 */
describe('three API processes on one Redis and one cloud (BACKEND=openstack)', () => {
  let redis: RedisServer;
  let processes: ApiProcess[] = [];
  let nova: Connection;
  const prefix = `r3-${randomBytes(3).toString('hex')}`;
  const created = new Set<string>();

  beforeAll(async () => {
    redis = await RedisServer.start();
    const env = demoEnv({ LOG_LEVEL: 'info', REDIS_URL: redis.url, AUTH_MODE: 'keys', ADMIN_API_KEY: ADMIN, API_KEYS: 'rate-key', RATE_LIMIT_PER_MINUTE: String(RATE) });
    // A cloud shared with other suites can be slow to answer /readyz's checks.
    processes = await Promise.all([0, 1, 2].map(() => launchApi(env, [], 240_000)));
    nova = demoConnection();
  }, 300_000);

  afterAll(async () => {
    const first = processes[0];
    // Bounded, so that a stuck Nova cannot hold the suite (what is left has the prefix, for a sweep).
    const remove = (id: string) => call(first as ApiProcess, `/vms/${id}`, ADMIN, { method: 'DELETE', signal: AbortSignal.timeout(60_000) }).catch(() => undefined);
    if (first) await Promise.all([...created].map(remove));
    await stopAllApis();
    await redis?.stop();
  }, 120_000);

  it('the same Idempotency-Key sent to all three at once makes exactly one server in Nova', async () => {
    const key = `${prefix}-once`;
    const body = JSON.stringify({ name: `${prefix}-once`, flavor: catalogNames.flavors.small, image: catalogNames.image });
    const answers = await Promise.all(processes.map((p) => call(p, '/vms', ADMIN, { method: 'POST', body, headers: { 'idempotency-key': key } })));
    const made = answers.filter((a) => a.status === 201 || a.status === 202);
    // One made it; each other is 409 (still in flight) or, if it came after, a replay of the same VM.
    expect(made.length).toBeGreaterThanOrEqual(1);
    for (const a of answers) expect([201, 202, 409]).toContain(a.status);
    const ids = new Set(await Promise.all(made.map(async (a) => ((await a.json()) as { id: string }).id)));
    for (const id of ids) created.add(id);
    expect(ids.size).toBe(1);
    // Nova is shared with other suites and may be slow: a timed-out read is asked again.
    let found: Awaited<ReturnType<Connection['compute']['listServers']>> | undefined;
    for (let attempt = 1; !found; attempt += 1) {
      found = await nova.compute.listServers({ tags: [idempotencyTag(key)] }).catch((error: unknown) => {
        if (attempt >= 5) throw error;
        return undefined;
      });
    }
    expect(found.servers.map((s) => s.id)).toEqual([...ids]);
  });

  it(`the rate limit (${RATE} a minute) holds across the three`, async () => {
    const statuses: number[] = [];
    for (let i = 0; i < RATE + 3; i += 1) statuses.push((await call(processes[i % 3] as ApiProcess, '/whoami', 'rate-key')).status);
    expect(statuses.slice(0, RATE).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(RATE)).toEqual([429, 429, 429]);
  });

  it('a key revoked on one is refused on the others within 60 s', async () => {
    const [p1, p2, p3] = processes as [ApiProcess, ApiProcess, ApiProcess];
    const made = await call(p1, '/keys', ADMIN, { method: 'POST', body: JSON.stringify({ name: `${prefix}-key`, role: 'member' }) });
    expect(made.status).toBe(201);
    const key = (await made.json()) as { id: string; secret: string };
    for (const p of processes) expect((await call(p, '/whoami', key.secret)).status).toBe(200);
    expect((await call(p1, `/keys/${key.id}`, ADMIN, { method: 'DELETE' })).status).toBe(200);
    const started = Date.now();
    for (const p of [p2, p3, p1]) await expect.poll(async () => (await call(p, '/whoami', key.secret)).status, { timeout: 60_000, interval: 100 }).toBe(401);
    expect(Date.now() - started).toBeLessThan(60_000);
  }, 90_000);

  it("a VM started through one process is seen settling on another's event stream", async () => {
    const [p1, p2] = processes as [ApiProcess, ApiProcess];
    const stream = await SseClient.open(`${p2.url}/api/v1/events`, { authorization: `Bearer ${ADMIN}` });
    try {
      const made = await call(p1, '/vms', ADMIN, {
        method: 'POST',
        body: JSON.stringify({ name: `${prefix}-seen`, flavor: catalogNames.flavors.small, image: catalogNames.image, start: true }),
      });
      expect([201, 202]).toContain(made.status);
      const vm = (await made.json()) as { id: string };
      created.add(vm.id);
      const mine = () => stream.events.filter((e) => (JSON.parse(e.data) as { id: string }).id === vm.id);
      await stream.until(() => mine().some((e) => e.event === 'vm.settled'), 240_000);
      expect(mine().map((e) => [e.event, (JSON.parse(e.data) as { status: string }).status])).toEqual([
        ['vm.created', 'STOPPED'],
        ['vm.settled', 'RUNNING'],
      ]);
      expect(JSON.parse(mine()[0]!.data)).toMatchObject({ request_id: made.headers.get('x-request-id') });
    } finally {
      stream.close();
    }
  }, 300_000);
});
