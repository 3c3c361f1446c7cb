import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { tenantTag } from '../../../src/backends/openstack/marks.js';
import { NetworkChoice } from '../../../src/backends/openstack/network.js';
import { OpenStackFloatingIpRepository, OpenStackNetworkRepository } from '../../../src/backends/openstack/openstack-network-repository.js';
import { ApiError } from '../../../src/domain/errors.js';
import { OpenStackHttpError, OpenStackTimeoutError, type Connection } from '../../../src/openstack/index.js';
import { caught } from '../../support/caught.js';
import { memberScope, scopeOf } from '../../support/scopes.js';

type Row = Record<string, unknown> & { id: string };

const neutronError = (status: number, message: string) =>
  new OpenStackHttpError({ service: 'network', method: 'PUT', path: '/v2.0/x', requestId: 'req-1' }, status, { kind: 'NeutronError', message }, 'req-up');

/**
 * A Neutron of a few Maps, with the rules the repositories meet: tags, router interfaces, ports of
 * servers, floating IPs and the refusals the adapter maps. Only the repository module is under test.
 */
class FakeNeutron {
  networks = new Map<string, Row>();
  subnets = new Map<string, Row>();
  routers = new Map<string, Row>();
  ports = new Map<string, Row>();
  fips = new Map<string, Row>();
  calls: string[] = [];
  private seq = 0;
  /** Makes the next call of this name throw. */
  failNext = new Map<string, Error>();

  private id(): string {
    this.seq += 1;
    return `00000000-0000-4000-8000-${String(this.seq).padStart(12, '0')}`;
  }

  private step(name: string): void {
    this.calls.push(name);
    const failure = this.failNext.get(name);
    if (failure) {
      this.failNext.delete(name);
      throw failure;
    }
  }

  constructor() {
    this.networks.set('pub', { id: 'pub', name: 'public', 'router:external': true, status: 'ACTIVE', tags: [], subnets: ['pub-s'], created_at: '2026-01-01T00:00:00Z' });
    this.subnets.set('pub-s', { id: 'pub-s', network_id: 'pub', cidr: '203.0.113.0/24', gateway_ip: '203.0.113.1', ip_version: 4 });
    this.networks.set('priv', { id: 'priv', name: 'private', status: 'ACTIVE', tags: [], subnets: ['priv-s'], created_at: '2026-01-01T00:00:01Z' });
    this.subnets.set('priv-s', { id: 'priv-s', network_id: 'priv', cidr: '10.0.0.0/24', gateway_ip: '10.0.0.1', ip_version: 4 });
    this.networks.set('stray', { id: 'stray', name: 'someone-elses', status: 'ACTIVE', tags: [], subnets: [] });
  }

  /** A server with one port on `networkId`. */
  server(id: string, networkId: string, address: string): string {
    const port = this.id();
    this.ports.set(port, { id: port, network_id: networkId, device_id: id, device_owner: 'compute:nova', fixed_ips: [{ subnet_id: 's', ip_address: address }] });
    return port;
  }

  readonly network = {
    listNetworks: async (query: { id?: readonly string[]; name?: string | readonly string[]; tags?: string; 'router:external'?: boolean } = {}) => {
      this.step('listNetworks');
      const names = typeof query.name === 'string' ? [query.name] : query.name;
      return [...this.networks.values()].filter(
        (n) =>
          (query.id === undefined || query.id.includes(n.id)) &&
          (names === undefined || names.includes(n['name'] as string)) &&
          (query['router:external'] === undefined || n['router:external'] === query['router:external']),
      );
    },
    getNetwork: async (id: string) => {
      this.step('getNetwork');
      const n = this.networks.get(id);
      if (!n) throw neutronError(404, `Network ${id} could not be found.`);
      return n;
    },
    createNetwork: async (body: { name: string }) => {
      this.step('createNetwork');
      const n = { id: this.id(), name: body.name, status: 'ACTIVE', tags: [], subnets: [], created_at: '2026-01-02T00:00:00Z' };
      this.networks.set(n.id, n);
      return n;
    },
    updateNetwork: async (id: string, body: { name: string }) => {
      this.step('updateNetwork');
      const n = this.networks.get(id) as Row;
      n['name'] = body.name;
      return n;
    },
    deleteNetwork: async (id: string) => {
      this.step('deleteNetwork');
      if ([...this.ports.values()].some((p) => p['network_id'] === id)) throw neutronError(409, 'Unable to complete operation on network. There are one or more ports still in use on the network.');
      this.networks.delete(id);
    },
    listSubnets: async (query: { network_id: readonly string[] }) => {
      this.step('listSubnets');
      return [...this.subnets.values()].filter((s) => query.network_id.includes(s['network_id'] as string));
    },
    createSubnet: async (body: { network_id: string; cidr: string }) => {
      this.step('createSubnet');
      const s = { id: this.id(), network_id: body.network_id, cidr: body.cidr, gateway_ip: body.cidr.replace(/0\/\d+$/, '1'), ip_version: 4 };
      this.subnets.set(s.id, s);
      (this.networks.get(body.network_id)?.['subnets'] as string[]).push(s.id);
      return s;
    },
    listRouters: async (query: { tags?: string } = {}) => {
      this.step('listRouters');
      return [...this.routers.values()].filter((r) => query.tags === undefined || (r['tags'] as string[]).includes(query.tags));
    },
    createRouter: async (body: { name: string }) => {
      this.step('createRouter');
      const r = { id: this.id(), name: body.name, tags: [] as string[] };
      this.routers.set(r.id, r);
      return r;
    },
    deleteRouter: async (id: string) => {
      this.step('deleteRouter');
      this.routers.delete(id);
    },
    addRouterInterface: async (router: string, subnet: string) => {
      this.step('addRouterInterface');
      const networkId = this.subnets.get(subnet)?.['network_id'] as string;
      const port = this.id();
      this.ports.set(port, { id: port, network_id: networkId, device_id: router, device_owner: 'network:router_interface', fixed_ips: [{ subnet_id: subnet, ip_address: 'x' }] });
    },
    removeRouterInterface: async (router: string, subnet: string) => {
      this.step('removeRouterInterface');
      for (const [id, p] of this.ports) {
        if (p['device_id'] === router && (p['fixed_ips'] as { subnet_id: string }[])[0]?.subnet_id === subnet) this.ports.delete(id);
      }
    },
    listPorts: async (query: { device_id?: string; network_id?: string; id?: readonly string[] }) => {
      this.step('listPorts');
      return [...this.ports.values()].filter(
        (p) =>
          (query.device_id === undefined || p['device_id'] === query.device_id) &&
          (query.network_id === undefined || p['network_id'] === query.network_id) &&
          (query.id === undefined || query.id.includes(p.id)),
      );
    },
    listFloatingIps: async (query: { tags?: string; port_id?: readonly string[] } = {}) => {
      this.step('listFloatingIps');
      return [...this.fips.values()].filter(
        (f) => (query.tags === undefined || (f['tags'] as string[]).includes(query.tags)) && (query.port_id === undefined || query.port_id.includes(f['port_id'] as string)),
      );
    },
    getFloatingIp: async (id: string) => {
      this.step('getFloatingIp');
      const f = this.fips.get(id);
      if (!f) throw neutronError(404, `Floating IP ${id} could not be found`);
      return f;
    },
    createFloatingIp: async (body: { floating_network_id: string }) => {
      this.step('createFloatingIp');
      const f = { id: this.id(), floating_ip_address: `203.0.113.${this.fips.size + 10}`, floating_network_id: body.floating_network_id, port_id: null, status: 'DOWN', tags: [] as string[], created_at: '2026-01-03T00:00:00Z' };
      this.fips.set(f.id, f);
      return f;
    },
    updateFloatingIp: async (id: string, body: { port_id: string | null }) => {
      this.step('updateFloatingIp');
      const f = this.fips.get(id) as Row;
      const port = body.port_id === null ? undefined : this.ports.get(body.port_id);
      if (port && port['network_id'] === 'priv') throw neutronError(404, 'External network pub is not reachable from subnet priv-s.');
      f['port_id'] = body.port_id;
      return f;
    },
    deleteFloatingIp: async (id: string) => {
      this.step('deleteFloatingIp');
      this.fips.delete(id);
    },
    setTags: async (collection: string, id: string, tags: string[]) => {
      this.step(`setTags ${collection}`);
      const table = { networks: this.networks, routers: this.routers, floatingips: this.fips, subnets: this.subnets }[collection] as Map<string, Row>;
      (table.get(id) as Row)['tags'] = tags;
    },
  };
}

describe('the OpenStack network and floating-IP repositories (a fake Neutron)', () => {
  let neutron: FakeNeutron;
  let networks: OpenStackNetworkRepository;
  let fips: OpenStackFloatingIpRepository;
  let changes: number;
  const log = pino({ level: 'silent' });
  const alice = scopeOf('alice');
  const bob = scopeOf('bob');

  beforeEach(() => {
    neutron = new FakeNeutron();
    const conn = neutron as unknown as Connection;
    changes = 0;
    networks = new OpenStackNetworkRepository({ connectionFor: () => conn, defaultNetwork: new NetworkChoice(conn, 'private'), log, onChange: () => (changes += 1) });
    fips = new OpenStackFloatingIpRepository({ connectionFor: () => conn, log });
  });

  it('makes a tagged network, its subnet and the tenant\'s router (once), and shows it with its cidr', async () => {
    const a = await networks.create(alice, { name: 'web', cidr: '10.1.0.0/24' });
    expect(a).toMatchObject({ name: 'web', cidr: '10.1.0.0/24', gateway_ip: '10.1.0.1', external: false, shared: false, tenant: 'alice' });
    expect(neutron.networks.get(a.id)?.['tags']).toEqual([tenantTag('alice')]);
    await networks.create(alice, { name: 'db', cidr: '10.2.0.0/24' });
    expect(neutron.calls.filter((c) => c === 'createRouter')).toHaveLength(1);
    expect([...neutron.routers.values()][0]?.['tags']).toEqual([tenantTag('alice')]);
    expect(changes).toBe(2);
  });

  it('lists the tenant\'s own, the default (shared) and the external networks, never another tenant\'s or untagged ones', async () => {
    const a = await networks.create(alice, { name: 'web', cidr: '10.1.0.0/24' });
    await networks.create(bob, { name: 'web', cidr: '10.1.0.0/24' });
    const seen = await networks.list(alice);
    expect(seen.map((n) => [n.name, n.tenant, n.shared, n.external])).toEqual([
      ['public', null, false, true],
      ['private', null, true, false],
      ['web', 'alice', false, false],
    ]);
    expect((await networks.find(alice, 'web'))?.id).toBe(a.id);
    expect(await networks.find(bob, a.id)).not.toEqual(expect.objectContaining({ id: a.id }));
    expect(await networks.find(alice, 'someone-elses')).toBeUndefined();
    expect(await networks.find(alice, '00000000-0000-4000-8000-999999999999')).toBeUndefined();
    expect((await networks.list(scopeOf('x', 'admin'))).filter((n) => n.name === 'web')).toHaveLength(2);
  });

  it('resolves a VM create\'s networks in one Neutron list for the ids and one for the names, reading no subnets', async () => {
    const web = await networks.create(alice, { name: 'web', cidr: '10.1.0.0/24' });
    const db = await networks.create(alice, { name: 'db', cidr: '10.2.0.0/24' });
    const theirs = await networks.create(bob, { name: 'theirs', cidr: '10.3.0.0/24' });
    neutron.calls.length = 0;
    expect(await networks.resolve(alice, [web.id, db.id])).toEqual([
      { id: web.id, name: 'web', external: false },
      { id: db.id, name: 'db', external: false },
    ]);
    expect(neutron.calls).toEqual(['listNetworks']);
    neutron.calls.length = 0;
    const unknownId = '00000000-0000-4000-8000-999999999999';
    expect(await networks.resolve(alice, ['db', 'public', 'private', theirs.id, 'someone-elses', unknownId])).toEqual([
      { id: db.id, name: 'db', external: false },
      { id: 'pub', name: 'public', external: true },
      { id: 'priv', name: 'private', external: false },
      undefined,
      undefined,
      undefined,
    ]);
    expect(neutron.calls).toEqual(['listNetworks', 'listNetworks']);
    neutron.calls.length = 0;
    expect(await networks.resolve(bob, ['theirs'])).toEqual([{ id: theirs.id, name: 'theirs', external: false }]);
    expect(neutron.calls).toEqual(['listNetworks']);
  });

  it('refuses a name the tenant sees already, and renames', async () => {
    const a = await networks.create(alice, { name: 'web', cidr: '10.1.0.0/24' });
    expect((await caught(networks.create(alice, { name: 'private', cidr: '10.3.0.0/24' }))).code).toBe('NETWORK_NAME_TAKEN');
    await networks.create(alice, { name: 'db', cidr: '10.2.0.0/24' });
    expect((await caught(networks.rename(alice, a.id, 'db'))).code).toBe('NETWORK_NAME_TAKEN');
    expect((await networks.rename(alice, a.id, 'front')).name).toBe('front');
  });

  it('undoes a create that fails half-way (no network left), and maps Neutron\'s quota and overlap refusals', async () => {
    neutron.failNext.set('setTags routers', new OpenStackTimeoutError({ service: 'network', method: 'PUT', path: '/x', requestId: 'r' }, 100));
    expect((await caught(networks.create(alice, { name: 'web', cidr: '10.1.0.0/24' }))).code).toBe('BACKEND_TIMEOUT');
    expect(neutron.routers.size).toBe(0);
    expect(neutron.networks.size).toBe(3);
    neutron.failNext.set('addRouterInterface', neutronError(400, 'Bad router request: Cidr 10.1.0.0/24 of subnet x overlaps with cidr 10.1.0.0/24 of subnet y.'));
    const overlap = await caught(networks.create(alice, { name: 'web', cidr: '10.1.0.0/24' }));
    expect(overlap.code).toBe('VALIDATION_ERROR');
    expect(overlap.extras.errors?.[0]?.path).toBe('body.cidr');
    expect([...neutron.networks.values()].map((n) => n['name'])).not.toContain('web');
    neutron.failNext.set('createNetwork', neutronError(409, "Quota exceeded for resources: ['network']."));
    expect((await caught(networks.create(alice, { name: 'web', cidr: '10.1.0.0/24' }))).code).toBe('QUOTA_EXCEEDED');
  });

  it('deletes a network once no VM is on it: RESOURCE_IN_USE naming the VM first, then the router interface goes before the network', async () => {
    const a = await networks.create(alice, { name: 'web', cidr: '10.1.0.0/24' });
    const port = neutron.server('vm-1', a.id, '10.1.0.5');
    const inUse = await caught(networks.delete(alice, a.id));
    expect(inUse.code).toBe('RESOURCE_IN_USE');
    expect(inUse.detail).toContain('vm-1');
    neutron.ports.delete(port);
    expect((await networks.delete(alice, a.id)).id).toBe(a.id);
    expect(neutron.networks.has(a.id)).toBe(false);
    expect(neutron.calls.indexOf('removeRouterInterface')).toBeLessThan(neutron.calls.lastIndexOf('deleteNetwork'));
    expect((await caught(networks.delete(alice, a.id))).code).toBe('NETWORK_NOT_FOUND');
  });

  it('plugs a network whose delete fails back into its router, so that nothing is left half-made; the next delete finishes', async () => {
    const a = await networks.create(alice, { name: 'web', cidr: '10.1.0.0/24' });
    const routed = () => [...neutron.ports.values()].filter((p) => p['network_id'] === a.id && p['device_owner'] === 'network:router_interface').length;
    expect(routed()).toBe(1);
    neutron.failNext.set('deleteNetwork', neutronError(500, 'Request Failed: internal server error while processing your request.'));
    expect((await caught(networks.delete(alice, a.id))).code).toBe('BACKEND_UNAVAILABLE');
    expect(neutron.networks.has(a.id)).toBe(true);
    expect(routed()).toBe(1);
    neutron.failNext.set('deleteNetwork', neutronError(500, 'again'));
    neutron.failNext.set('addRouterInterface', neutronError(500, 'and the undo too'));
    expect((await caught(networks.delete(alice, a.id))).code).toBe('BACKEND_UNAVAILABLE');
    expect(routed()).toBe(0);
    expect((await networks.delete(alice, a.id)).id).toBe(a.id);
    expect(neutron.networks.has(a.id)).toBe(false);
  });

  it('tells a tenant\'s delete whether the tenant still owns a network or a floating IP of its own', async () => {
    expect([await networks.tenantOwnsNetworks('alice'), await fips.tenantOwnsFloatingIps('alice')]).toEqual([false, false]);
    await networks.create(alice, { name: 'web', cidr: '10.1.0.0/24' });
    await fips.allocate(bob, (await networks.find(bob, 'public')) as NonNullable<Awaited<ReturnType<typeof networks.find>>>);
    expect([await networks.tenantOwnsNetworks('alice'), await fips.tenantOwnsFloatingIps('alice')]).toEqual([true, false]);
    expect([await networks.tenantOwnsNetworks('bob'), await fips.tenantOwnsFloatingIps('bob')]).toEqual([false, true]);
  });

  it('allocates tagged floating IPs, associates them with the VM\'s port and shows the VM, refusing a second one per VM', async () => {
    const external = (await networks.find(alice, 'public')) as NonNullable<Awaited<ReturnType<typeof networks.find>>>;
    const a = await networks.create(alice, { name: 'web', cidr: '10.1.0.0/24' });
    neutron.server('vm-1', a.id, '10.1.0.5');
    const f = await fips.allocate(alice, external);
    expect(f).toMatchObject({ network: 'pub', vm_id: null, status: 'DOWN', tenant: 'alice' });
    expect(await fips.get(bob, f.id)).toBeUndefined();
    const associated = await fips.associate(alice, f.id, 'vm-1');
    expect(associated.vm_id).toBe('vm-1');
    expect((await fips.associate(alice, f.id, 'vm-1')).vm_id).toBe('vm-1');
    expect((await fips.list(alice)).map((x) => x.vm_id)).toEqual(['vm-1']);
    const g = await fips.allocate(alice, external);
    expect((await caught(fips.associate(alice, g.id, 'vm-1'))).code).toBe('VM_HAS_FLOATING_IP');
    neutron.server('vm-2', a.id, '10.1.0.6');
    expect((await caught(fips.associate(alice, f.id, 'vm-2'))).code).toBe('RESOURCE_IN_USE');
    expect((await fips.disassociate(alice, f.id)).vm_id).toBeNull();
    expect((await fips.disassociate(alice, f.id)).vm_id).toBeNull();
    expect((await fips.release(alice, f.id)).id).toBe(f.id);
    expect((await caught(fips.release(alice, f.id))).code).toBe('FLOATING_IP_NOT_FOUND');
    expect(await fips.list(scopeOf('admin', 'admin'))).toHaveLength(1);
  });

  it('says VM_UNREACHABLE for a VM without a port, or only on a network with no router to the external one', async () => {
    const external = (await networks.find(memberScope, 'public')) as NonNullable<Awaited<ReturnType<typeof networks.find>>>;
    const f = await fips.allocate(memberScope, external);
    expect((await caught(fips.associate(memberScope, f.id, 'no-ports'))).code).toBe('VM_UNREACHABLE');
    neutron.server('on-private', 'priv', '10.0.0.5');
    expect((await caught(fips.associate(memberScope, f.id, 'on-private'))).code).toBe('VM_UNREACHABLE');
  });

  it('deletes a floating IP it could not tag, and maps an empty pool', async () => {
    const external = (await networks.find(alice, 'public')) as NonNullable<Awaited<ReturnType<typeof networks.find>>>;
    neutron.failNext.set('setTags floatingips', neutronError(500, 'boom'));
    expect((await caught(fips.allocate(alice, external))) instanceof ApiError).toBe(true);
    expect(neutron.fips.size).toBe(0);
    neutron.failNext.set('createFloatingIp', neutronError(409, 'No more IP addresses available on network pub.'));
    expect((await caught(fips.allocate(alice, external))).code).toBe('POOL_EXHAUSTED');
    neutron.failNext.set('getFloatingIp', neutronError(500, 'boom'));
    expect((await caught(fips.get(alice, 'x'))).code).toBe('BACKEND_UNAVAILABLE');
  });
});
