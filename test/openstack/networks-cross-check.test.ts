import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenantTag } from '../../src/backends/openstack/marks.js';
import type { Connection } from '../../src/openstack/index.js';
import { ApiClient, type VmBody } from '../support/api-client.js';
import { startApp, type RunningApp } from '../support/memory-app.js';
import { catalogNames, demoConnection, demoEnv } from './mini-openstack.js';

const SLOW_MS = 600_000;

/** After network and floating-IP calls through our API, ask Neutron directly that it holds the same. */
describe('our API and Neutron agree on networks and floating IPs (BACKEND=openstack)', () => {
  let app: RunningApp;
  let api: ApiClient;
  let cloud: Connection;
  const prefix = `nx-${randomBytes(3).toString('hex')}`;
  const undo: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    app = await startApp(demoEnv());
    api = new ApiClient(app.baseUrl);
    cloud = demoConnection();
  }, SLOW_MS);

  afterAll(async () => {
    for (const step of undo.reverse()) await step().catch(() => undefined);
    await app.close();
  }, SLOW_MS);

  it('a network is a tagged Neutron network whose one subnet has the cidr asked for, on the tenant\'s router to public; a VM on it has its port there and a floating IP points at that port', async () => {
    const made = await api.call<{ id: string; cidr: string }>('POST', '/api/v1/networks', { body: { name: `${prefix}-net`, cidr: '10.77.3.0/24' } });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    undo.push(() => api.call('DELETE', `/api/v1/networks/${made.body.id}`));

    const network = await cloud.network.getNetwork(made.body.id);
    expect(network.tags).toEqual([tenantTag('default')]);
    const subnets = await cloud.network.listSubnets({ network_id: [made.body.id] });
    expect(subnets.map((s) => [s.cidr, s.gateway_ip])).toEqual([['10.77.3.0/24', '10.77.3.1']]);
    const interfaces = (await cloud.network.listPorts({ network_id: made.body.id })).filter((p) => p.device_owner === 'network:router_interface');
    expect(interfaces).toHaveLength(1);
    const [router] = await cloud.network.listRouters({ tags: tenantTag('default') });
    expect(router?.id).toBe(interfaces[0]?.device_id);
    const [publicNet] = await cloud.network.listNetworks({ name: 'public' });
    expect(router?.external_gateway_info?.network_id).toBe(publicNet?.id);

    const created = await api.createVm({ name: `${prefix}-vm`, flavor: catalogNames.flavors.small, image: catalogNames.image, networks: [made.body.id] });
    expect([201, 202]).toContain(created.status);
    undo.push(async () => {
      await api.deleteVm(created.body.id);
      for (let i = 0; i < 60 && (await cloud.network.listPorts({ device_id: created.body.id })).length > 0; i++) await new Promise((r) => setTimeout(r, 2000));
    });
    const vm = (await api.settled(created.body.id, 300_000)).body as VmBody & { networks: { id: string; ip_address: string }[] };
    expect(vm.status).toBe('STOPPED');
    const ports = await cloud.network.listPorts({ device_id: vm.id });
    expect(ports.map((p) => p.network_id)).toEqual([made.body.id]);
    expect(vm.networks).toEqual([{ id: made.body.id, name: `${prefix}-net`, ip_address: ports[0]?.fixed_ips[0]?.ip_address }]);

    const fip = await api.call<{ id: string; address: string }>('POST', '/api/v1/floating-ips', { body: {} });
    expect(fip.status).toBe(201);
    undo.push(() => api.call('DELETE', `/api/v1/floating-ips/${fip.body.id}`));
    expect((await api.call('POST', `/api/v1/floating-ips/${fip.body.id}/associate`, { body: { vm: vm.id } })).status).toBe(200);
    const upstream = await cloud.network.getFloatingIp(fip.body.id);
    expect(upstream).toMatchObject({ floating_ip_address: fip.body.address, port_id: ports[0]?.id, router_id: router?.id, fixed_ip_address: ports[0]?.fixed_ips[0]?.ip_address });
    expect(upstream.tags).toEqual([tenantTag('default')]);
    // No L3 agent on the local cloud: Neutron keeps it DOWN, and so does the API.
    expect(upstream.status).toBe('DOWN');
    expect((await api.call<{ status: string }>('GET', `/api/v1/floating-ips/${fip.body.id}`)).body.status).toBe('DOWN');

    expect((await api.call('POST', `/api/v1/floating-ips/${fip.body.id}/disassociate`)).status).toBe(200);
    expect((await cloud.network.getFloatingIp(fip.body.id)).port_id).toBeNull();
  }, SLOW_MS);

  it('a network create that Neutron refuses half-way leaves nothing behind (a cidr overlapping the router\'s other subnet)', async () => {
    const first = await api.call<{ id: string }>('POST', '/api/v1/networks', { body: { name: `${prefix}-a`, cidr: '10.78.0.0/24' } });
    expect(first.status).toBe(201);
    undo.push(() => api.call('DELETE', `/api/v1/networks/${first.body.id}`));
    // Neutron refuses a router interface on a subnet that overlaps one the router has already.
    const second = await api.call<{ code: string }>('POST', '/api/v1/networks', { body: { name: `${prefix}-b`, cidr: '10.78.0.0/24' } });
    expect(second.status).toBe(400);
    expect(second.body.code).toBe('VALIDATION_ERROR');
    expect(await cloud.network.listNetworks({ name: `${prefix}-b` })).toEqual([]);
  }, SLOW_MS);
});
