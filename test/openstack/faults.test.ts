/**
 * Fault injection against the running local OpenStack: loopback proxies (support/fault-proxy.ts)
 * sit in front of Keystone, Nova, Glance and Neutron, the Keystone proxy re-points the catalog at
 * the others, and each test switches one fault on, checks the answer and how long it took, then
 * switches it off and checks recovery.
 *
 * Part 1 checks the proxies themselves and the client (src/openstack) under each fault.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type Connection,
  OpenStackConnectionError,
  OpenStackHttpError,
  OpenStackTimeoutError,
} from '../../src/openstack/index.js';
import { loadStack, directConnection } from './support/fault-env.js';
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
