/**
 * Neutron faults through the loopback fault proxy (support/fault-proxy.ts), as faults.test.ts does
 * for Nova: the API (BACKEND=openstack) in front of proxies, one fault at a time, then recovery.
 * What matters: a clear 502/503/504, and nothing half-made left in Neutron.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../../src/openstack/index.js';
import { ApiClient, type ProblemBody } from '../support/api-client.js';
import { waitFor } from '../../src/shared/wait-for.js';
import { catalogNames } from './mini-openstack.js';
import { startApp, type RunningApp } from '../support/memory-app.js';
import { apiEnv, directConnection, loadStack } from './support/fault-env.js';
import { startProxiedCloud, type ProxiedCloud, type StackInfo } from './support/fault-proxy.js';

const loaded = loadStack();
if (typeof loaded === 'string') throw new Error(loaded);
const stack: StackInfo = loaded;
const TIMEOUT_MS = Number(process.env.FAULTS_TIMEOUT_MS ?? 8_000);
const SLOW_MS = 600_000;

describe('the API under Neutron faults (networks and floating IPs)', () => {
  let cloud: ProxiedCloud;
  let app: RunningApp;
  let api: ApiClient;
  let direct: Connection;
  const prefix = `nf-${randomBytes(3).toString('hex')}`;
  let counter = 0;
  const made: string[] = [];
  const undo: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    cloud = await startProxiedCloud(stack);
    app = await startApp(apiEnv(stack, { OS_AUTH_URL: cloud.authUrl, OS_TIMEOUT_MS: String(TIMEOUT_MS), LOG_LEVEL: 'warn' }));
    api = new ApiClient(app.baseUrl);
    direct = directConnection(stack, { timeoutMs: 60_000 });
    // Warm: a token and OS_NETWORK's lookup, so that each fault meets the call it is aimed at.
    expect((await api.call('GET', '/api/v1/networks')).status).toBe(200);
  }, SLOW_MS);

  afterEach(() => cloud.clearAll());

  afterAll(async () => {
    cloud?.clearAll();
    for (const step of undo.reverse()) await step().catch(() => undefined);
    for (const id of made) await api.call('DELETE', `/api/v1/networks/${id}`);
    await app?.close();
    await cloud?.close();
  }, SLOW_MS);

  const leftInNeutron = async (name: string) => (await direct.network.listNetworks({ name })).filter((n) => n.name === name);

  it('a 500 from Neutron on the subnet create is a 502, and the network made before it is taken down again', async () => {
    cloud.neutron.inject({ method: 'POST', path: '/v2.0/subnets', fault: { kind: 'status', status: 500, body: { NeutronError: { message: 'injected', type: 'X', detail: '' } } } });
    const name = `${prefix}-${++counter}`;
    const response = await api.call<ProblemBody & { upstream?: string }>('POST', '/api/v1/networks', { body: { name, cidr: '10.214.1.0/24' } });
    expect(response.status).toBe(502);
    expect(response.body).toMatchObject({ code: 'BACKEND_UNAVAILABLE', upstream: 'error' });
    expect(await leftInNeutron(name)).toEqual([]);
  }, SLOW_MS);

  it('a Neutron that does not answer the router interface in time is a 504, and nothing is left', async () => {
    cloud.neutron.inject({ method: 'PUT', path: /\/add_router_interface$/, fault: { kind: 'delay', ms: TIMEOUT_MS * 3 } });
    const name = `${prefix}-${++counter}`;
    const response = await api.call<ProblemBody>('POST', '/api/v1/networks', { body: { name, cidr: '10.214.2.0/24' } });
    expect(response.status).toBe(504);
    expect(response.body.code).toBe('BACKEND_TIMEOUT');
    cloud.clearAll();
    expect(await leftInNeutron(name)).toEqual([]);
  }, SLOW_MS);

  it('an unreachable Neutron is a 503 on GET /networks, and the next call after it comes back is a 200', async () => {
    cloud.neutron.inject({ method: 'GET', path: '/v2.0/networks', fault: { kind: 'reset', when: 'before' } });
    const down = await api.call<ProblemBody & { upstream?: string }>('GET', '/api/v1/networks');
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ code: 'BACKEND_UNAVAILABLE', upstream: 'unreachable' });
    cloud.clearAll();
    expect((await api.call('GET', '/api/v1/networks')).status).toBe(200);
  }, SLOW_MS);

  it('a floating IP whose tagging fails is released again: the pool holds no untagged address of ours', async () => {
    const before = (await direct.network.listFloatingIps()).map((f) => f.id);
    cloud.neutron.inject({ method: 'PUT', path: /^\/v2\.0\/floatingips\/[0-9a-f-]{36}\/tags$/, fault: { kind: 'status', status: 500, body: { NeutronError: { message: 'injected', type: 'X', detail: '' } } } });
    const response = await api.call<ProblemBody>('POST', '/api/v1/floating-ips', { body: {} });
    expect(response.status).toBe(502);
    const after = (await direct.network.listFloatingIps()).map((f) => f.id);
    expect(after.filter((id) => !before.includes(id))).toEqual([]);
  }, SLOW_MS);

  const routerInterfaces = async (networkId: string) =>
    (await direct.network.listPorts({ network_id: networkId })).filter((p) => p.device_owner === 'network:router_interface');

  it('a network delete that Neutron fails after the router interface went is a 502; the network stays, plugged in again; the next delete finishes', async () => {
    const name = `${prefix}-${++counter}`;
    const network = await api.call<{ id: string }>('POST', '/api/v1/networks', { body: { name, cidr: '10.214.3.0/24' } });
    expect(network.status, JSON.stringify(network.body)).toBe(201);
    made.push(network.body.id);
    expect(await routerInterfaces(network.body.id)).toHaveLength(1);
    cloud.neutron.inject({ method: 'DELETE', path: `/v2.0/networks/${network.body.id}`, times: 1, fault: { kind: 'status', status: 500, body: { NeutronError: { message: 'injected', type: 'X', detail: '' } } } });
    const failed = await api.call<ProblemBody & { upstream?: string }>('DELETE', `/api/v1/networks/${network.body.id}`);
    expect(failed.status).toBe(502);
    expect(failed.body).toMatchObject({ code: 'BACKEND_UNAVAILABLE', upstream: 'error' });
    // Nothing half-made: the network is there and routed, as before the call.
    expect((await leftInNeutron(name)).map((n) => n.id)).toEqual([network.body.id]);
    expect(await routerInterfaces(network.body.id)).toHaveLength(1);
    expect((await api.call('GET', `/api/v1/networks/${network.body.id}`)).status).toBe(200);
    expect((await api.call('DELETE', `/api/v1/networks/${network.body.id}`)).status).toBe(200);
    expect(await leftInNeutron(name)).toEqual([]);
  }, SLOW_MS);

  it('a floating IP associate under faults: unreachable Neutron is a 503 and changes nothing; a connection lost after Neutron acted is retried (a PUT) and answers the association', async () => {
    const name = `${prefix}-${++counter}`;
    const network = await api.call<{ id: string }>('POST', '/api/v1/networks', { body: { name, cidr: '10.214.4.0/24' } });
    expect(network.status, JSON.stringify(network.body)).toBe(201);
    made.push(network.body.id);
    // The server is made straight through Nova (with the direct client's 60 s): the test is about the
    // associate, and a loaded cloud's create may take longer than the API's fault-test timeout. The
    // default tenant owns untagged servers, so the API sees it.
    const { id: vmId } = await direct.compute.createServer({
      name,
      imageRef: stack.images[catalogNames.image] ?? '',
      flavorRef: stack.flavors[catalogNames.flavors.small] ?? '',
      networks: [{ uuid: network.body.id }],
    });
    undo.push(async () => {
      await direct.compute.deleteServer(vmId);
      for (let i = 0; i < 60 && (await direct.network.listPorts({ device_id: vmId })).length > 0; i++) await new Promise((r) => setTimeout(r, 2000));
    });
    await waitFor(() => direct.compute.getServer(vmId), (s) => s.status === 'ACTIVE' || s.status === 'ERROR', { timeoutMs: 300_000, intervalMs: 1000 });
    expect((await direct.compute.getServer(vmId)).status).toBe('ACTIVE');
    const [port] = await direct.network.listPorts({ device_id: vmId });
    const fip = await api.call<{ id: string }>('POST', '/api/v1/floating-ips', { body: {} });
    expect(fip.status, JSON.stringify(fip.body)).toBe(201);
    undo.push(() => api.call('DELETE', `/api/v1/floating-ips/${fip.body.id}`));
    const fipPath = `/v2.0/floatingips/${fip.body.id}`;

    cloud.neutron.inject({ method: 'PUT', path: fipPath, fault: { kind: 'reset', when: 'before' } });
    const down = await api.call<ProblemBody & { upstream?: string }>('POST', `/api/v1/floating-ips/${fip.body.id}/associate`, { body: { vm: vmId } });
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ code: 'BACKEND_UNAVAILABLE', upstream: 'unreachable' });
    expect((await direct.network.getFloatingIp(fip.body.id)).port_id).toBeNull();
    cloud.clearAll();

    // Neutron associates, then the answer is lost: the client's PUT is retried and finds it done.
    cloud.neutron.inject({ method: 'PUT', path: fipPath, times: 1, fault: { kind: 'reset', when: 'after' } });
    const associated = await api.call<{ vm_id: string | null }>('POST', `/api/v1/floating-ips/${fip.body.id}/associate`, { body: { vm: vmId } });
    expect(associated.status, JSON.stringify(associated.body)).toBe(200);
    expect(associated.body.vm_id).toBe(vmId);
    expect(cloud.neutron.count('PUT', fipPath)).toBeGreaterThanOrEqual(2);
    expect((await direct.network.getFloatingIp(fip.body.id)).port_id).toBe(port?.id);
    expect((await api.call<{ vm_id: string | null }>('GET', `/api/v1/floating-ips/${fip.body.id}`)).body.vm_id).toBe(vmId);
  }, SLOW_MS);
});
