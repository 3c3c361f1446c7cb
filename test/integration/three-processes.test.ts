import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callApi as call, launchApi, stopAllApis, type ApiProcess } from '../support/api-process.js';
import { RedisServer } from '../support/redis-server.js';
import { SseClient } from '../support/sse-client.js';

const ADMIN = 'three-processes-admin-key-0123456789abcdef';
const RATE = 25;

/** The memory backend, REDIS_URL, keys and a rate limit; creates slowed down as Nova's are. */
const launch = (redisUrl: string) =>
  launchApi(
    {
      REDIS_URL: redisUrl,
      AUTH_MODE: 'keys',
      ADMIN_API_KEY: ADMIN,
      API_KEYS: 'rate-key,events-key',
      RATE_LIMIT_PER_MINUTE: String(RATE),
      MOCK_ACTION_DELAY_MS: '200',
      SLOW_CREATE_MS: '300',
    },
    ['./test/integration/fixtures/slow-create.ts'],
  );

describe('three API processes on one Redis (memory backend)', () => {
  let redis: RedisServer;
  let processes: ApiProcess[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    processes = await Promise.all([0, 1, 2].map(() => launch(redis.url)));
  }, 60_000);

  afterAll(async () => {
    await stopAllApis();
    await redis?.stop();
  });

  it('the same Idempotency-Key sent to all three at once makes one VM; the others are 409 while it is made', async () => {
    const body = JSON.stringify({ name: 'once', flavor: 'm1.small', image: 'ubuntu-22.04' });
    const answers = await Promise.all(
      processes.map((p) => call(p, '/vms', ADMIN, { method: 'POST', body, headers: { 'idempotency-key': 'three-at-once' } })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([202, 409, 409]);
    for (const a of answers.filter((x) => x.status === 409)) expect(((await a.json()) as { code: string }).code).toBe('IDEMPOTENCY_KEY_IN_FLIGHT');
    // Each process's memory backend holds its own VMs: across the three, exactly one was made.
    let total = 0;
    for (const p of processes) total += ((await (await call(p, '/vms?name=once', ADMIN)).json()) as { data: unknown[] }).data.length;
    expect(total).toBe(1);
  });

  it(`the rate limit (${RATE} a minute) holds across the three, not per process`, async () => {
    const statuses: number[] = [];
    for (let i = 0; i < RATE + 3; i += 1) statuses.push((await call(processes[i % 3] as ApiProcess, '/whoami', 'rate-key')).status);
    expect(statuses.slice(0, RATE).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(RATE)).toEqual([429, 429, 429]);
  });

  it('a key made on one process works on all; revoked on another, it is refused on all three within 60 s', async () => {
    const [p1, p2, p3] = processes as [ApiProcess, ApiProcess, ApiProcess];
    const made = await call(p1, '/keys', ADMIN, { method: 'POST', body: JSON.stringify({ name: 'roaming', role: 'member' }) });
    expect(made.status).toBe(201);
    const key = (await made.json()) as { id: string; secret: string };
    for (const p of processes) expect((await call(p, '/whoami', key.secret)).status).toBe(200);
    expect((await call(p2, `/keys/${key.id}`, ADMIN, { method: 'DELETE' })).status).toBe(200);
    const started = Date.now();
    for (const p of [p1, p2, p3]) await expect.poll(async () => (await call(p, '/whoami', key.secret)).status, { timeout: 60_000, interval: 50 }).toBe(401);
    expect(Date.now() - started).toBeLessThan(60_000);
    for (const p of processes) expect(p.output()).not.toContain(key.secret);
  }, 70_000);

  it("a VM started through one process is seen settling on another's event stream (and a third's)", async () => {
    const [p1, p2, p3] = processes as [ApiProcess, ApiProcess, ApiProcess];
    const streams = await Promise.all([p2, p3].map((p) => SseClient.open(`${p.url}/api/v1/events`, { authorization: 'Bearer events-key' })));
    try {
      const made = await call(p1, '/vms?wait=10', 'events-key', { method: 'POST', body: JSON.stringify({ name: 'seen', flavor: 'm1.small', image: 'ubuntu-22.04' }) });
      expect(made.status).toBe(201);
      const vm = (await made.json()) as { id: string };
      expect((await call(p1, `/vms/${vm.id}/start`, 'events-key', { method: 'POST' })).status).toBe(202);
      const mineOn = (stream: SseClient) => stream.events.filter((e) => (JSON.parse(e.data) as { id: string }).id === vm.id);
      for (const stream of streams) {
        await stream.until(() => mineOn(stream).length === 3, 10_000);
        expect(mineOn(stream).map((e) => [e.event, (JSON.parse(e.data) as { status: string }).status])).toEqual([
          ['vm.created', 'STOPPED'],
          ['vm.settled', 'STOPPED'],
          ['vm.settled', 'RUNNING'],
        ]);
      }
      expect(streams[0]!.events.map((e) => e.id)).toEqual(streams[1]!.events.map((e) => e.id));
    } finally {
      for (const stream of streams) stream.close();
    }
  });
});
