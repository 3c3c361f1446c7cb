/**
 * Fault injection against the running local OpenStack: loopback proxies (support/fault-proxy.ts)
 * sit in front of Keystone, Nova, Glance and Neutron, the Keystone proxy re-points the catalog at
 * the others, and each test switches one fault on, checks the answer and how long it took, then
 * switches it off and checks recovery.
 *
 * Part 1 checks the proxies themselves and the client (src/openstack) under each fault; part 2
 * the API (BACKEND=openstack) under the same faults.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type Connection,
  OpenStackConnectionError,
  OpenStackHttpError,
  OpenStackTimeoutError,
} from '../../src/openstack/index.js';
import { ApiClient, type ApiResponse, type ProblemBody } from '../support/api-client.js';
import { startApp, type RunningApp } from '../support/memory-app.js';
import { apiEnv, directConnection, loadStack } from './support/fault-env.js';
import { TOKEN_PATH, startProxiedCloud, type ProxiedCloud, type StackInfo } from './support/fault-proxy.js';

const loaded = loadStack();
if (typeof loaded === 'string') throw new Error(loaded);
const stack: StackInfo = loaded;

/**
 * The client's per-attempt timeout (OS_TIMEOUT_MS for the API). Small, so that a timeout test is
 * quick (the transport's budget for a whole call is 2 x this), yet above what a busy two-core
 * machine makes the local cloud take: Keystone runs a single worker, and with other work on the
 * machine a token took up to 5 s and the first Nova call with a new token (which Nova has
 * Keystone validate) up to 7 s. FAULTS_TIMEOUT_MS=1500 is enough on an idle machine.
 */
const TIMEOUT_MS = Number(process.env.FAULTS_TIMEOUT_MS ?? 8_000);
const SERVER_ONE = /^\/v2\.1\/servers\/[0-9a-f-]{36}$/;
const SERVER_ACTION = /^\/v2\.1\/servers\/[0-9a-f-]{36}\/action$/;
const SERVERS = '/v2.1/servers';

const flavorId = requireKey(stack.flavors, 'm1.tiny');
const imageId = requireKey(stack.images, 'cirros-0.6');
const networkId = requireKey(stack.networks, 'private');
const runTag = `faults-${process.pid}-${Date.now().toString(36)}`;

function requireKey(map: Record<string, string>, key: string): string {
  const value = map[key];
  if (value === undefined) throw new Error(`stack.json has no ${key}`);
  return value;
}

/** Runs fn, returning what it threw (or undefined) and how long it took. */
async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const started = performance.now();
  try {
    const value = await fn();
    return { ms: performance.now() - started, value };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

let cloud: ProxiedCloud;
/** Straight to the cloud, never through a proxy: to arrange and to look behind the client's back. */
let direct: Connection;
/** A server made directly, for the tests that need an id. */
let serverId: string;
/** One client through the proxies for the whole file, its token cached, as the API's would be. */
let conn: Connection;

async function waitActive(conn: Connection, id: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const server = await conn.compute.getServer(id);
    if (server.status === 'ACTIVE' && !server['OS-EXT-STS:task_state']) return;
    if (server.status === 'ERROR') throw new Error(`server ${id} went to ERROR`);
    if (Date.now() > deadline) throw new Error(`server ${id} still ${server.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The servers with exactly this name, straight from Nova. */
async function serversNamed(name: string) {
  const servers = await direct.compute.listAllServers({ name: `^${name}$` });
  return servers.filter((s) => s.name === name);
}

/**
 * The servers named so once Nova has had time to act on every create it was sent: waits for the
 * first to show up, then a little longer for a possible second.
 */
async function eventuallyNamed(name: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let found = await serversNamed(name);
  while (found.length === 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    found = await serversNamed(name);
  }
  await new Promise((r) => setTimeout(r, 1_000));
  return serversNamed(name);
}

beforeAll(async () => {
  cloud = await startProxiedCloud(stack);
  direct = directConnection(stack, { timeoutMs: 30_000 });
  const name = `${runTag}-base`;
  ({ id: serverId } = await direct.compute.createServer({ name, flavorRef: flavorId, imageRef: imageId, networks: [{ uuid: networkId }] }));
  await waitActive(direct, serverId);
  conn = proxiedConnection();
  await conn.compute.getServer(serverId);
}, 120_000);

afterAll(async () => {
  // Whatever a test left behind: every server whose name carries this run's tag.
  const mine = (await direct.compute.listAllServers({ name: runTag })).filter((s) => s.name.startsWith(runTag));
  await Promise.all(mine.map((s) => direct.compute.deleteServer(s.id).catch(() => undefined)));
  await cloud?.close();
}, 120_000);

/** Reads the catalogs, the VM list and the network lookup's source until each answers (at most ~2 min). */
async function warmUp(api: ApiClient): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (const path of ['/api/v1/flavors', '/api/v1/images', '/api/v1/vms?limit=1', '/readyz']) {
    for (;;) {
      const response = await api.call('GET', path);
      if (response.status === 200) break;
      if (Date.now() > deadline) throw new Error(`warm-up: ${path} still answers ${response.status}: ${JSON.stringify(response.body)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** A fresh client (empty token cache) that reaches the cloud only through the proxies. */
function proxiedConnection(): Connection {
  return directConnection(stack, { timeoutMs: TIMEOUT_MS }, cloud.authUrl);
}

describe('the fault proxies themselves', () => {
  beforeEach(() => {
    cloud.clearAll();
    cloud.resetAllCounts();
  });

  it('pass requests through, count them, and the Keystone proxy re-points the catalog at the other proxies', async () => {
    expect(await conn.endpoint('compute')).toBe(`${cloud.nova.origin}/v2.1`);
    expect(await conn.endpoint('image')).toBe(cloud.glance.origin);
    expect(await conn.endpoint('network')).toBe(cloud.neutron.origin);
    const server = await conn.compute.getServer(serverId);
    expect(server.id).toBe(serverId);
    const images = await conn.image.listImages();
    expect(images.map((i) => i.id)).toContain(imageId);
    // The token (from beforeAll) is cached: no Keystone call here.
    expect(cloud.keystone.count('POST', TOKEN_PATH)).toBe(0);
    expect(conn.tokenRequests).toBe(1);
    expect(cloud.nova.count('GET', SERVER_ONE)).toBe(1);
    expect(cloud.glance.count('GET')).toBeGreaterThanOrEqual(1);
  });

  it('applies a fault only to the method and path it names, and only `times` times', async () => {
    cloud.nova.inject({ method: 'POST', path: SERVER_ACTION, fault: { kind: 'status', status: 500 }, times: 1 });
    // A GET of the same server is not touched by a POST-only rule.
    expect((await conn.compute.getServer(serverId)).id).toBe(serverId);
    const first = await fetch(`${cloud.nova.origin}/v2.1/servers/${serverId}/action`, { method: 'POST', body: '{}' });
    expect(first.status).toBe(500);
    expect(await first.json()).toHaveProperty('computeFault.code', 500);
    // Spent: the next one reaches Nova, which refuses it without a token (401).
    const second = await fetch(`${cloud.nova.origin}/v2.1/servers/${serverId}/action`, { method: 'POST', body: '{}' });
    expect(second.status).toBe(401);
    expect(cloud.nova.count('POST', SERVER_ACTION)).toBe(2);
  });
});

describe('the client under faults (src/openstack through the proxies)', () => {
  beforeEach(() => {
    cloud.clearAll();
    cloud.resetAllCounts();
  });

  it('times out a GET that Nova answers too slowly, within its total budget, and recovers', async () => {
    cloud.nova.inject({ method: 'GET', path: SERVER_ONE, fault: { kind: 'delay', ms: TIMEOUT_MS * 4 } });
    const result = await timed(() => conn.compute.getServer(serverId));
    expect(result.error).toBeInstanceOf(OpenStackTimeoutError);
    expect(result.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    // The transport's budget for a whole call is 2 x the per-attempt timeout.
    expect(result.ms).toBeLessThan(2 * TIMEOUT_MS + 1_000);
    // An idempotent call is tried again inside the budget.
    expect(cloud.nova.count('GET', SERVER_ONE)).toBeGreaterThanOrEqual(2);
    cloud.clearAll();
    expect((await conn.compute.getServer(serverId)).id).toBe(serverId);
  });

  it('retries a GET answered 503 (3 attempts), gives up with the 503, and recovers', async () => {
    cloud.nova.inject({ method: 'GET', path: SERVER_ONE, fault: { kind: 'status', status: 503 } });
    const result = await timed(() => conn.compute.getServer(serverId));
    expect(result.error).toBeInstanceOf(OpenStackHttpError);
    expect((result.error as OpenStackHttpError).status).toBe(503);
    expect(cloud.nova.count('GET', SERVER_ONE)).toBe(3);
    expect(result.ms).toBeLessThan(2 * TIMEOUT_MS);
    cloud.clearAll();
    expect((await conn.compute.getServer(serverId)).id).toBe(serverId);
  });

  it('sends a POST action answered 500 exactly once', async () => {
    cloud.nova.inject({ method: 'POST', path: SERVER_ACTION, fault: { kind: 'status', status: 500 } });
    const result = await timed(() => conn.compute.serverAction(serverId, { type: 'stop' }));
    expect(result.error).toBeInstanceOf(OpenStackHttpError);
    expect((result.error as OpenStackHttpError).status).toBe(500);
    expect(cloud.nova.count('POST', SERVER_ACTION)).toBe(1);
  });

  it('sends a create whose connection is reset after Nova took it exactly once: one server, not two', async () => {
    cloud.nova.inject({ method: 'POST', path: SERVERS, fault: { kind: 'reset', when: 'after' } });
    const name = `${runTag}-client-reset`;
    const result = await timed(() => conn.compute.createServer({ name, flavorRef: flavorId, imageRef: imageId, networks: [{ uuid: networkId }] }));
    expect(result.error).toBeInstanceOf(OpenStackConnectionError);
    expect(result.ms).toBeLessThan(TIMEOUT_MS);
    expect(cloud.nova.count('POST', SERVERS)).toBe(1);
    cloud.clearAll();
    // Nova did create it (the connection broke after the request was sent), once.
    expect(await eventuallyNamed(name)).toHaveLength(1);
  });

  it('fails fast with ECONNREFUSED when Nova is down, and recovers when it is back', async () => {
    await cloud.nova.down();
    try {
      const result = await timed(() => conn.compute.getServer(serverId));
      expect(result.error).toBeInstanceOf(OpenStackConnectionError);
      expect((result.error as OpenStackConnectionError).code).toBe('ECONNREFUSED');
      expect(result.ms).toBeLessThan(2_000);
    } finally {
      await cloud.nova.up();
    }
    expect((await conn.compute.getServer(serverId)).id).toBe(serverId);
  });

  it('authenticates once more when Nova refuses the token once (401), and the call succeeds', async () => {
    const before = conn.tokenRequests;
    cloud.nova.inject({ path: SERVER_ONE, fault: { kind: 'status', status: 401 }, times: 1 });
    const server = await conn.compute.getServer(serverId);
    expect(server.id).toBe(serverId);
    expect(cloud.keystone.count('POST', TOKEN_PATH)).toBe(1);
    expect(cloud.nova.count('GET', SERVER_ONE)).toBe(2);
    expect(conn.tokenRequests).toBe(before + 1);
  });

  it('fails with a connection error when Keystone is down and no token is cached, and recovers', async () => {
    conn.invalidateToken();
    await cloud.keystone.down();
    try {
      const result = await timed(() => conn.compute.getServer(serverId));
      expect(result.error).toBeInstanceOf(OpenStackConnectionError);
      expect(result.ms).toBeLessThan(2_000);
      expect(cloud.nova.count()).toBe(0);
    } finally {
      await cloud.keystone.up();
    }
    expect((await conn.compute.getServer(serverId)).id).toBe(serverId);
    expect(cloud.keystone.count('POST', TOKEN_PATH)).toBe(1);
  });
});

/**
 * Part 2: the same faults through OUR HTTP API (BACKEND=openstack, OS_AUTH_URL = the Keystone
 * proxy): the problem answer (contract section 4), a bounded time, then recovery once the fault is off.
 */
describe('the API under faults (BACKEND=openstack through the proxies)', () => {
  let app: RunningApp;
  let api: ApiClient;
  /** A RUNNING VM made through the API. */
  let vmId: string;
  let vmPath: RegExp;

  beforeAll(async () => {
    cloud.clearAll();
    app = await startApp(apiEnv(stack, { OS_AUTH_URL: cloud.authUrl, OS_TIMEOUT_MS: String(TIMEOUT_MS), LOG_LEVEL: 'info' }));
    api = new ApiClient(app.baseUrl);
    // Warm up as a running API would be: token, catalogs, and each service's first check of the
    // new token (Nova, Glance and Neutron each ask Keystone once), which a loaded machine makes slow.
    await warmUp(api);
    // The server made in the file's beforeAll (directly, ACTIVE): the API sees it as RUNNING.
    vmId = serverId;
    vmPath = new RegExp(`^/v2\\.1/servers/${vmId}$`);
    const vm = await api.getVm(vmId);
    expect({ status: vm.status, vm: vm.body.status }).toEqual({ status: 200, vm: 'RUNNING' });
  }, 180_000);

  afterAll(async () => {
    cloud?.clearAll();
    await app?.close();
  });

  beforeEach(async () => {
    cloud.clearAll();
    cloud.resetAllCounts();
    // The backend shares a read of one VM with the get()s of the next 150 ms: let the previous
    // test's last read expire, so that this test's call really goes to Nova.
    await new Promise((r) => setTimeout(r, 400));
  });

  /** A problem answer of the contract's shape, with none of the upstream's words in it. */
  function expectProblem(response: ApiResponse<ProblemBody>, status: number, code: string): void {
    expect({ status: response.status, code: response.body.code }).toEqual({ status, code });
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.body.status).toBe(status);
    expect(typeof response.body.request_id).toBe('string');
    expect(JSON.stringify(response.body)).not.toMatch(/computeFault|serviceUnavailable|Unexpected API Error|127\.0\.0\.1/);
  }

  it('answers 504 BACKEND_TIMEOUT when Nova is slower than OS_TIMEOUT_MS on GET, within the budget, and recovers', async () => {
    cloud.nova.inject({ method: 'GET', path: vmPath, fault: { kind: 'delay', ms: TIMEOUT_MS * 4 } });
    const result = await timed(() => api.call<ProblemBody>('GET', `/api/v1/vms/${vmId}`));
    const response = result.value as ApiResponse<ProblemBody>;
    expectProblem(response, 504, 'BACKEND_TIMEOUT');
    // No hung request: the client's budget for one call is 2 x OS_TIMEOUT_MS, attempts included.
    expect(result.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(result.ms).toBeLessThan(3 * TIMEOUT_MS);
    expect(cloud.nova.count('GET', vmPath)).toBeGreaterThanOrEqual(2);
    cloud.clearAll();
    const again = await api.getVm(vmId);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(vmId);
  });

  it('answers 502 BACKEND_UNAVAILABLE when Nova answers 503 on GET, after 3 attempts, and recovers', async () => {
    cloud.nova.inject({ method: 'GET', path: vmPath, fault: { kind: 'status', status: 503 } });
    const result = await timed(() => api.call<ProblemBody>('GET', `/api/v1/vms/${vmId}`));
    // An upstream 5xx is "answered with an error": 502 (a 503 is for an unreachable cloud).
    expectProblem(result.value as ApiResponse<ProblemBody>, 502, 'BACKEND_UNAVAILABLE');
    expect(cloud.nova.count('GET', vmPath)).toBe(3);
    expect(result.ms).toBeLessThan(2 * TIMEOUT_MS);
    cloud.clearAll();
    expect((await api.getVm(vmId)).status).toBe(200);
  });

  it('answers 502 when Nova answers 500 to a stop, having sent the POST exactly once, and the stop then works', async () => {
    cloud.nova.inject({ method: 'POST', path: SERVER_ACTION, fault: { kind: 'status', status: 500 } });
    const result = await timed(() => api.call<ProblemBody>('POST', `/api/v1/vms/${vmId}/stop`));
    expectProblem(result.value as ApiResponse<ProblemBody>, 502, 'BACKEND_UNAVAILABLE');
    expect(cloud.nova.count('POST', SERVER_ACTION)).toBe(1);
    expect(result.ms).toBeLessThan(2 * TIMEOUT_MS);
    // Nothing happened to the VM.
    const unchanged = await api.getVm(vmId);
    expect({ status: unchanged.body.status, task: unchanged.body.task }).toEqual({ status: 'RUNNING', task: null });
    cloud.clearAll();
    cloud.resetAllCounts();
    const stopped = await api.actAndSettle(vmId, 'stop');
    expect(stopped.status).toBe('STOPPED');
    expect(cloud.nova.count('POST', SERVER_ACTION)).toBeGreaterThanOrEqual(1);
  });

  it('answers 503 when the connection breaks on a create, sent exactly once: one server in Nova, not two; then creates', async () => {
    cloud.nova.inject({ method: 'POST', path: SERVERS, fault: { kind: 'reset', when: 'after' } });
    const name = `${runTag}-api-reset`;
    const result = await timed(() => api.call<ProblemBody>('POST', '/api/v1/vms', { body: { name, flavor: 'm1.tiny', image: 'cirros-0.6' } }));
    expectProblem(result.value as ApiResponse<ProblemBody>, 503, 'BACKEND_UNAVAILABLE');
    expect(result.ms).toBeLessThan(2 * TIMEOUT_MS);
    expect(cloud.nova.count('POST', SERVERS)).toBe(1);
    cloud.clearAll();
    // Nova got the request before the connection broke: it made the server, once.
    expect(await eventuallyNamed(name)).toHaveLength(1);
    const retried = await api.createVm({ name: `${name}-2`, flavor: 'm1.tiny', image: 'cirros-0.6' });
    expect(retried.status).toBe(202);
    expect(await serversNamed(`${name}-2`)).toHaveLength(1);
  });

  it('answers 503 at once when Nova is unreachable, /readyz says 503 naming nova, and both recover', async () => {
    await cloud.nova.down();
    try {
      const result = await timed(() => api.call<ProblemBody>('GET', `/api/v1/vms/${vmId}`));
      expectProblem(result.value as ApiResponse<ProblemBody>, 503, 'BACKEND_UNAVAILABLE');
      expect(result.ms).toBeLessThan(2_000);
      const ready = await api.call<ProblemBody & { checks: { name: string; ok: boolean; detail?: string }[] }>('GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.code).toBe('BACKEND_UNAVAILABLE');
      expect(ready.body.detail).toMatch(/nova/);
      expect(ready.body.checks.find((c) => c.name === 'nova')).toMatchObject({ ok: false });
      expect(ready.body.checks.find((c) => c.name === 'keystone')).toMatchObject({ ok: true });
    } finally {
      await cloud.nova.up();
    }
    expect((await api.getVm(vmId)).status).toBe(200);
    expect((await api.call('GET', '/readyz')).status).toBe(200);
  });

  it('authenticates once more when Nova refuses the token once (401): the call still succeeds', async () => {
    cloud.nova.inject({ method: 'GET', path: vmPath, fault: { kind: 'status', status: 401 }, times: 1 });
    const response = await api.getVm(vmId);
    expect(response.status).toBe(200);
    expect(response.body.id).toBe(vmId);
    expect(cloud.keystone.count('POST', TOKEN_PATH)).toBe(1);
    expect(cloud.nova.count('GET', vmPath)).toBeGreaterThanOrEqual(2);
    // The new token is kept: the next call needs no Keystone.
    expect((await api.getVm(vmId)).status).toBe(200);
    expect(cloud.keystone.count('POST', TOKEN_PATH)).toBe(1);
  });

  describe('with Keystone down when an API process starts (no token cached)', () => {
    /** A new API process for each test: no token, cold catalogs. */
    let fresh: RunningApp;
    let freshApi: ApiClient;

    beforeEach(async () => {
      await cloud.keystone.down();
      fresh = await startApp(apiEnv(stack, { OS_AUTH_URL: cloud.authUrl, OS_TIMEOUT_MS: String(TIMEOUT_MS), LOG_LEVEL: 'info' }));
      freshApi = new ApiClient(fresh.baseUrl);
      cloud.resetAllCounts();
    });

    afterEach(async () => {
      await cloud.keystone.up();
      await fresh?.close();
    });

    it('answers 503 for a VM read at once, /readyz names keystone, and both recover once Keystone is back', async () => {
      const result = await timed(() => freshApi.call<ProblemBody>('GET', `/api/v1/vms/${vmId}`));
      expectProblem(result.value as ApiResponse<ProblemBody>, 503, 'BACKEND_UNAVAILABLE');
      expect(result.ms).toBeLessThan(2_000);
      // (Only this VM's path: the other API instance may be polling Nova for VMs of earlier tests.)
      expect(cloud.nova.count('GET', vmPath)).toBe(0);
      const ready = await freshApi.call<ProblemBody>('GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.detail).toMatch(/keystone/);
      await cloud.keystone.up();
      expect((await freshApi.getVm(vmId)).status).toBe(200);
      expect((await freshApi.call('GET', '/readyz')).status).toBe(200);
      expect(cloud.keystone.count('POST', TOKEN_PATH)).toBe(1);
    });

    it('answers 503 (not 500) for the catalogs (flavors, images) and a create, whose caches are still cold', async () => {
      const answers: Record<string, unknown> = {};
      for (const [method, path, body] of [
        ['GET', '/api/v1/flavors', undefined],
        ['GET', '/api/v1/images', undefined],
        ['POST', '/api/v1/vms', { name: `${runTag}-never`, flavor: 'm1.tiny', image: 'cirros-0.6' }],
      ] as const) {
        const result = await timed(() => freshApi.call<ProblemBody>(method, path, body === undefined ? {} : { body }));
        const response = result.value as ApiResponse<ProblemBody>;
        answers[`${method} ${path}`] = { status: response.status, code: response.body.code, fast: result.ms < 2_000 };
      }
      const expected = { status: 503, code: 'BACKEND_UNAVAILABLE', fast: true };
      expect(answers).toEqual({ 'GET /api/v1/flavors': expected, 'GET /api/v1/images': expected, 'POST /api/v1/vms': expected });
      expect(cloud.nova.count('POST', SERVERS)).toBe(0);
    });
  });

  it('with every fault off, a full create, stop and delete works (recovery)', async () => {
    cloud.clearAll();
    for (const proxy of [cloud.keystone, cloud.nova, cloud.glance, cloud.neutron]) expect(proxy.isUp).toBe(true);
    const vm = await api.createSettled({ name: `${runTag}-api-lifecycle`, flavor: 'm1.tiny', image: 'cirros-0.6', start: true });
    expect(vm.status).toBe('RUNNING');
    expect((await api.actAndSettle(vm.id, 'stop')).status).toBe('STOPPED');
    const deleted = await api.deleteVm(vm.id);
    expect(deleted.status).toBe(202);
    const gone = await api.settled(vm.id);
    expect(gone.status === 404 || gone.body.status === 'DELETED').toBe(true);
    // Nova forgets it too (its list may lag its 404 by a moment).
    const deadline = Date.now() + 30_000;
    let left = await serversNamed(`${runTag}-api-lifecycle`);
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      left = await serversNamed(`${runTag}-api-lifecycle`);
    }
    expect(left.map((s) => ({ id: s.id, status: s.status, task: s['OS-EXT-STS:task_state'] }))).toEqual([]);
  });
});
