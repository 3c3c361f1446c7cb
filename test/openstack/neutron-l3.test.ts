import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenStackHttpError, type Connection } from '../../src/openstack/index.js';
import { waitFor } from '../../src/shared/wait-for.js';
import { catalogNames } from './mini-openstack.js';
import { directConnection, loadStack } from './support/fault-env.js';

const stack = loadStack();
if (typeof stack === 'string') throw new Error(stack);

/**
 * What the local cloud's Neutron does for routers and floating IPs without an L3 agent
 * (scripts/openstack/README.md, "Neutron without an L3 agent"): issue 9 builds on these facts, so
 * they are checked here, as the demo user, straight against Neutron.
 */
type Body = Record<string, unknown>;

describe('Neutron L3 on the local cloud (router plugin, external network public, no L3 agent)', () => {
  let conn: Connection;
  const suffix = randomBytes(3).toString('hex');
  const undo: (() => Promise<unknown>)[] = [];
  let publicId: string;
  let networkId: string;
  let subnetId: string;
  let routerId: string;

  const neutron = async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<Body> =>
    ((await conn.call('network', { method, path: `/v2.0${path}`, ...(body !== undefined && { body }) })).body ?? {}) as Body;
  const refused = (call: Promise<unknown>) =>
    call.then(
      () => undefined,
      (err: unknown) => (err instanceof OpenStackHttpError ? err : undefined),
    );

  beforeAll(async () => {
    // One attempt each, with room for a loaded machine: a retried POST or PUT whose first attempt
    // went through would fail for the wrong reason ("Router already has a port on subnet").
    conn = directConnection(stack, { timeoutMs: 60_000, maxAttempts: 1 });
    const publicNet = (await neutron('GET', '/networks?name=public')) as { networks: { id: string; 'router:external': boolean }[] };
    expect(publicNet.networks).toHaveLength(1);
    expect(publicNet.networks[0]?.['router:external']).toBe(true);
    publicId = publicNet.networks[0]?.id ?? '';
    networkId = ((await neutron('POST', '/networks', { network: { name: `l3-${suffix}` } })) as { network: { id: string } }).network.id;
    undo.push(() => neutron('DELETE', `/networks/${networkId}`));
    subnetId = (
      (await neutron('POST', '/subnets', { subnet: { network_id: networkId, ip_version: 4, cidr: '10.250.0.0/24' } })) as { subnet: { id: string } }
    ).subnet.id;
  });

  afterAll(async () => {
    for (const step of undo.reverse()) await step().catch(() => undefined);
  });

  it('makes a router with a gateway on public ACTIVE at once; its gateway and interface ports stay DOWN and unbound', async () => {
    const { router } = (await neutron('POST', '/routers', {
      router: { name: `l3-${suffix}`, external_gateway_info: { network_id: publicId } },
    })) as { router: { id: string; status: string; external_gateway_info: { external_fixed_ips: { ip_address: string }[] } } };
    routerId = router.id;
    undo.push(() => neutron('DELETE', `/routers/${routerId}`));
    expect(router.status).toBe('ACTIVE');
    expect(router.external_gateway_info.external_fixed_ips[0]?.ip_address).toMatch(/^203\.0\.113\.\d+$/);
    await neutron('PUT', `/routers/${routerId}/add_router_interface`, { subnet_id: subnetId });
    undo.push(() => neutron('PUT', `/routers/${routerId}/remove_router_interface`, { subnet_id: subnetId }));
    const { ports } = (await neutron('GET', `/ports?device_id=${routerId}`)) as { ports: { device_owner: string; status: string }[] };
    // The demo user sees the interface port; the gateway port belongs to no project.
    expect(ports).toEqual([expect.objectContaining({ device_owner: 'network:router_interface', status: 'DOWN' })]);
  });

  it("associates a floating IP with a Nova server's port; the floating IP stays DOWN", async () => {
    const { id } = await conn.compute.createServer({
      name: `l3-${suffix}`,
      imageRef: stack.images[catalogNames.image] ?? '',
      flavorRef: stack.flavors[catalogNames.flavors.small] ?? '',
      networks: [{ uuid: networkId }],
    });
    undo.push(() => conn.compute.deleteServer(id));
    await waitFor(() => conn.compute.getServer(id), (s) => s.status === 'ACTIVE' || s.status === 'ERROR', { timeoutMs: 120_000, intervalMs: 500 });
    const { ports } = (await neutron('GET', `/ports?device_id=${id}`)) as { ports: { id: string; fixed_ips: { ip_address: string }[] }[] };
    const port = ports[0];
    expect(port?.fixed_ips[0]?.ip_address).toMatch(/^10\.250\.0\.\d+$/);
    const { floatingip } = (await neutron('POST', '/floatingips', {
      floatingip: { floating_network_id: publicId, port_id: port?.id },
    })) as { floatingip: { id: string; status: string; floating_ip_address: string; fixed_ip_address: string; router_id: string } };
    undo.push(() => neutron('DELETE', `/floatingips/${floatingip.id}`));
    expect(floatingip).toMatchObject({ status: 'DOWN', fixed_ip_address: port?.fixed_ips[0]?.ip_address, router_id: routerId });
    expect(floatingip.floating_ip_address).toMatch(/^203\.0\.113\.\d+$/);
    // The router interface cannot go while the floating IP needs it: 409.
    const inUse = await refused(neutron('PUT', `/routers/${routerId}/remove_router_interface`, { subnet_id: subnetId }));
    expect(inUse?.status).toBe(409);
    const { floatingip: released } = (await neutron('PUT', `/floatingips/${floatingip.id}`, { floatingip: { port_id: null } })) as {
      floatingip: { port_id: string | null; router_id: string | null; status: string };
    };
    expect(released).toMatchObject({ port_id: null, router_id: null, status: 'DOWN' });
  });

  it('refuses a floating IP for a port whose network has no router to public (404)', async () => {
    const isolated = ((await neutron('POST', '/networks', { network: { name: `l3-iso-${suffix}` } })) as { network: { id: string } }).network.id;
    undo.push(() => neutron('DELETE', `/networks/${isolated}`));
    await neutron('POST', '/subnets', { subnet: { network_id: isolated, ip_version: 4, cidr: '10.251.0.0/24' } });
    const port = ((await neutron('POST', '/ports', { port: { network_id: isolated } })) as { port: { id: string } }).port.id;
    undo.push(() => neutron('DELETE', `/ports/${port}`));
    const error = await refused(neutron('POST', '/floatingips', { floatingip: { floating_network_id: publicId, port_id: port } }));
    expect(error?.status).toBe(404);
    expect(error?.upstreamMessage).toMatch(/is not reachable from subnet/);
  });

  it("has Neutron's quotas as up.sh configures them", async () => {
    const { quota } = (await neutron('GET', `/quotas/${stack.demo.project_id}`)) as { quota: Record<string, number> };
    expect(quota).toMatchObject({ network: 100, subnet: 100, port: 500, router: 10, floatingip: 50, security_group: 10, security_group_rule: 100 });
  });
});
