import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FloatingIpSchema, NetworkSchema } from '../../src/http/network-schemas.js';
import { ApiClient, type ProblemBody, type VmBody } from '../support/api-client.js';

/** A running API in front of some backend, and what that backend's networking offers. */
export interface NetworkContractTarget {
  baseUrl: string;
  close(): Promise<void>;
  image: string;
  flavor: string;
  /** The network a VM gets when its create names none (memory `private`, or OS_NETWORK). */
  defaultNetwork: string;
  /** The external network floating IPs come from. */
  externalNetwork: string;
  /** Whether a VM's `floating_ip` shows the association as soon as it is made. */
  vmShowsFloatingIpAtOnce: boolean;
  /** Whether the default network is routed to the external one (memory: yes; the local cloud's `private`: no). */
  defaultNetworkRouted: boolean;
  headers?: Record<string, string>;
  otherTenant?: Record<string, string>;
}

export interface NetworkBody {
  id: string;
  name: string;
  cidr: string;
  gateway_ip: string | null;
  external: boolean;
  shared: boolean;
  status: string;
  tenant: string | null;
  created_at: string;
}

export interface FloatingIpBody {
  id: string;
  address: string;
  network: string;
  vm_id: string | null;
  status: string;
  tenant: string;
  created_at: string;
}

type VmWithNetworks = VmBody & { networks: { id: string; name: string; ip_address: string | null }[]; floating_ip: string | null };

/** A test that makes VMs, or the cleanup, may take minutes on a loaded cloud (memory takes milliseconds). */
const SLOW_MS = 600_000;

const inCidr = (address: string, cidr: string): boolean => {
  const [base = '', prefix = '0'] = cidr.split('/');
  const toNumber = (text: string) => text.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(prefix));
  return Math.floor(toNumber(address) / size) === Math.floor(toNumber(base) / size);
};

/**
 * docs/contract.md section 9 (networks and floating IPs) as HTTP tests, for any backend; it polls
 * for VMs to settle and assumes no timings, so the memory backend and a real cloud run it alike.
 */
export function describeNetworkContract(label: string, makeTarget: () => Promise<NetworkContractTarget>, options: { twoTenants?: boolean } = {}): void {
  describe(`network API contract (${label})`, () => {
    let target: NetworkContractTarget;
    let api: ApiClient;
    const prefix = `nc-${randomBytes(3).toString('hex')}`;
    let counter = 0;
    const nextName = () => `${prefix}-${++counter}`;
    const vms: string[] = [];
    const networks: string[] = [];
    const fips: string[] = [];
    /**
     * A distinct /24 per network, in a /16 chosen per run: a tenant's networks may not overlap, and
     * on a shared cloud an earlier run's networks of the same tenant may still be there.
     */
    const block = 100 + ((randomBytes(1)[0] ?? 0) % 150);
    const nextCidr = () => `10.${block}.${++counter % 250}.0/24`;

    const newNetwork = async (name = nextName(), cidr = nextCidr()): Promise<NetworkBody> => {
      const response = await api.call<NetworkBody>('POST', '/api/v1/networks', { body: { name, cidr } });
      expect(response.status, JSON.stringify(response.body)).toBe(201);
      networks.push(response.body.id);
      return response.body;
    };
    const newVm = async (extra: Record<string, unknown> = {}): Promise<VmWithNetworks> => {
      const vm = (await api.createSettled({ name: nextName(), flavor: target.flavor, image: target.image, ...extra })) as VmWithNetworks;
      vms.push(vm.id);
      return vm;
    };
    const newFip = async (): Promise<FloatingIpBody> => {
      const response = await api.call<FloatingIpBody>('POST', '/api/v1/floating-ips', { body: {} });
      expect(response.status, JSON.stringify(response.body)).toBe(201);
      fips.push(response.body.id);
      return response.body;
    };
    /**
     * Two VMs on one tenant network (routed to the external one on every backend) and one on the
     * default network, made once and shared by the floating-IP tests: a VM costs a minute on a
     * loaded cloud. Each test leaves them without a floating IP.
     */
    let routed: Promise<NetworkBody> | undefined;
    const routedVms: Promise<VmWithNetworks>[] = [];
    const routedVm = async (index = 0) => (routedVms[index] ??= (async () => newVm({ networks: [(await (routed ??= newNetwork())).id] }))());
    let defaultVm: Promise<VmWithNetworks> | undefined;
    const getVm = async (id: string) => (await api.getVm(id)).body as VmWithNetworks;
    const deleteVmAndWait = async (id: string) => {
      await api.deleteVm(id);
      const deadline = Date.now() + 60_000;
      for (;;) {
        const response = await api.getVm(id);
        if (response.status === 404 || (response.body.status === 'DELETED' && response.body.task === null)) return;
        if (Date.now() > deadline) throw new Error(`VM ${id} not deleted after 60 s`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };

    beforeAll(async () => {
      target = await makeTarget();
      api = new ApiClient(target.baseUrl, target.headers);
    }, SLOW_MS);

    afterAll(async () => {
      if (!api) return;
      for (const id of fips) await api.call('DELETE', `/api/v1/floating-ips/${id}`);
      await Promise.all(vms.map((id) => deleteVmAndWait(id)));
      for (const id of networks) await api.call('DELETE', `/api/v1/networks/${id}`);
      await target.close();
    }, SLOW_MS);

    describe('networks', () => {
      it('creates a network with its subnet: 201, Location, the resource of section 9, gateway at the first host address', async () => {
        const name = nextName();
        const response = await api.call<NetworkBody>('POST', '/api/v1/networks', { body: { name, cidr: `10.${block}.255.0/24` } });
        expect(response.status, JSON.stringify(response.body)).toBe(201);
        networks.push(response.body.id);
        expect(NetworkSchema.strict().safeParse(response.body).success).toBe(true);
        expect(response.headers.get('location')).toBe(`/api/v1/networks/${response.body.id}`);
        expect(response.body).toMatchObject({ name, cidr: `10.${block}.255.0/24`, gateway_ip: `10.${block}.255.1`, external: false, shared: false, status: 'ACTIVE' });
        expect(response.body.tenant).not.toBeNull();
      });

      it('finds a network by id and by name, and lists it with the default and external networks', async () => {
        const network = await newNetwork();
        expect((await api.call<NetworkBody>('GET', `/api/v1/networks/${network.id}`)).body).toEqual(network);
        expect((await api.call<NetworkBody>('GET', `/api/v1/networks/${network.name}`)).body).toEqual(network);
        const list = (await api.call<{ data: NetworkBody[] }>('GET', '/api/v1/networks')).body.data;
        const names = list.map((n) => n.name);
        expect(names).toContain(network.name);
        expect(names).toContain(target.defaultNetwork);
        expect(list.find((n) => n.name === target.externalNetwork)?.external).toBe(true);
      });

      it.each([
        ['10.0.0.0/7', 'prefix longer than /8'],
        ['10.0.0.0/30', 'prefix shorter than /29'],
        ['10.0.0.5/24', 'a host address, not the network\'s'],
        ['300.0.0.0/24', 'an octet over 255'],
        ['fd00::/64', 'IPv6'],
        ['10.0.0.0', 'no prefix'],
      ])('refuses the cidr %s (%s) with 400 naming body.cidr', async (cidr) => {
        const response = await api.call<ProblemBody>('POST', '/api/v1/networks', { body: { name: nextName(), cidr } });
        expect(response.status).toBe(400);
        expect(response.body.code).toBe('VALIDATION_ERROR');
        expect(response.body.errors?.map((e) => e.path)).toEqual(['body.cidr']);
      });

      it('refuses a second network with a name the tenant sees already (409 NETWORK_NAME_TAKEN), the default network\'s included', async () => {
        const network = await newNetwork();
        for (const name of [network.name, target.defaultNetwork]) {
          const response = await api.call<ProblemBody>('POST', '/api/v1/networks', { body: { name, cidr: nextCidr() } });
          expect(response.status).toBe(409);
          expect(response.body.code).toBe('NETWORK_NAME_TAKEN');
        }
      });

      it('refuses a cidr that overlaps another of the tenant\'s networks (400 on body.cidr: they share one router)', async () => {
        const network = await newNetwork();
        const [base = ''] = network.cidr.split('/');
        const response = await api.call<ProblemBody>('POST', '/api/v1/networks', { body: { name: nextName(), cidr: `${base}/25` } });
        expect(response.status).toBe(400);
        expect(response.body.errors?.map((e) => e.path)).toEqual(['body.cidr']);
      }, SLOW_MS);

      it('renames a network (PATCH): the new name finds it, the old one no longer does', async () => {
        const network = await newNetwork();
        const renamed = `${network.name}-r`;
        const response = await api.call<NetworkBody>('PATCH', `/api/v1/networks/${network.id}`, { body: { name: renamed } });
        expect(response.status).toBe(200);
        expect(response.body).toEqual({ ...network, name: renamed });
        expect((await api.call<NetworkBody>('GET', `/api/v1/networks/${renamed}`)).body.id).toBe(network.id);
        expect((await api.call<ProblemBody>('GET', `/api/v1/networks/${network.name}`)).status).toBe(404);
      });

      it('refuses to rename or delete the cloud\'s external network (403)', async () => {
        for (const [method, body] of [['PATCH', { name: nextName() }], ['DELETE', undefined]] as const) {
          const response = await api.call<ProblemBody>(method, `/api/v1/networks/${target.externalNetwork}`, { ...(body && { body }) });
          expect(response.status).toBe(403);
          expect(response.body.code).toBe('FORBIDDEN');
        }
      });

      it('answers 404 NETWORK_NOT_FOUND for an unknown id or name, on GET, PATCH and DELETE', async () => {
        for (const [method, body] of [['GET', undefined], ['PATCH', { name: nextName() }], ['DELETE', undefined]] as const) {
          const response = await api.call<ProblemBody>(method, `/api/v1/networks/${prefix}-nothing`, { ...(body && { body }) });
          expect(response.status).toBe(404);
          expect(response.body.code).toBe('NETWORK_NOT_FOUND');
        }
      });

      it('refuses a body with an unknown field or without a name (400)', async () => {
        expect((await api.call('POST', '/api/v1/networks', { body: { name: nextName(), cidr: nextCidr(), mtu: 1400 } })).status).toBe(400);
        expect((await api.call('POST', '/api/v1/networks', { body: { cidr: nextCidr() } })).status).toBe(400);
      });
    });

    describe('VMs on networks', () => {
      it('a VM made without `networks` is on the default network, and ip_address is its address there', async () => {
        const vm = await (defaultVm ??= newVm());
        expect(vm.networks.map((n) => n.name)).toEqual([target.defaultNetwork]);
        expect(vm.networks[0]?.ip_address).toBe(vm.ip_address);
        expect(vm.floating_ip).toBeNull();
      }, SLOW_MS);

      it('plugs a VM into the networks named (by name or id), with an address from each subnet; the network is in use until the VM is gone', async () => {
        const first = await newNetwork();
        const second = await newNetwork();
        const vm = await newVm({ networks: [first.name, second.id] });
        expect(vm.status).toBe('STOPPED');
        expect(vm.networks.map((n) => n.id).sort()).toEqual([first.id, second.id].sort());
        for (const attached of vm.networks) {
          const network = attached.id === first.id ? first : second;
          expect(attached.name).toBe(network.name);
          expect(inCidr(attached.ip_address ?? '', network.cidr), `${attached.ip_address} in ${network.cidr}`).toBe(true);
        }
        expect(vm.networks.map((n) => n.ip_address)).toContain(vm.ip_address);

        const inUse = await api.call<ProblemBody>('DELETE', `/api/v1/networks/${first.id}`);
        expect(inUse.status).toBe(409);
        expect(inUse.body.code).toBe('RESOURCE_IN_USE');
        expect(inUse.body.detail).toContain(vm.id);

        await deleteVmAndWait(vm.id);
        const deleted = await api.call<NetworkBody>('DELETE', `/api/v1/networks/${first.id}`);
        expect(deleted.status).toBe(200);
        expect(deleted.body.id).toBe(first.id);
        expect((await api.call('GET', `/api/v1/networks/${first.id}`)).status).toBe(404);
      }, SLOW_MS);

      it('refuses a create naming an unknown or an external network with 400 UNKNOWN_NETWORK, and leaves no VM behind', async () => {
        for (const bad of [`${prefix}-no-such-network`, target.externalNetwork]) {
          const name = nextName();
          const response = await api.createVm({ name, flavor: target.flavor, image: target.image, networks: [target.defaultNetwork, bad] });
          expect(response.status).toBe(400);
          expect((response.body as unknown as ProblemBody).code).toBe('UNKNOWN_NETWORK');
          expect((response.body as unknown as ProblemBody).errors?.map((e) => e.path)).toEqual(['networks.1']);
          const listed = await api.call<{ data: VmBody[] }>('GET', `/api/v1/vms?name=${name}`);
          expect(listed.body.data).toEqual([]);
        }
      });

      it('refuses a create naming a network twice, or none (400)', async () => {
        const twice = await api.createVm({ name: nextName(), flavor: target.flavor, image: target.image, networks: [target.defaultNetwork, target.defaultNetwork] });
        expect(twice.status).toBe(400);
        const none = await api.createVm({ name: nextName(), flavor: target.flavor, image: target.image, networks: [] });
        expect(none.status).toBe(400);
      });
    });

    describe('floating IPs', () => {
      it('allocates one from the external network: 201, DOWN, associated with no VM', async () => {
        const external = (await api.call<NetworkBody>('GET', `/api/v1/networks/${target.externalNetwork}`)).body;
        const fip = await newFip();
        expect(FloatingIpSchema.strict().safeParse(fip).success).toBe(true);
        expect(fip).toMatchObject({ network: external.id, vm_id: null, status: 'DOWN' });
        expect(inCidr(fip.address, external.cidr)).toBe(true);
        expect((await api.call<FloatingIpBody>('GET', `/api/v1/floating-ips/${fip.id}`)).body).toEqual(fip);
        expect((await api.call<{ data: FloatingIpBody[] }>('GET', '/api/v1/floating-ips')).body.data.map((f) => f.id)).toContain(fip.id);
      });

      it('allocates from the external network named in the body, and refuses a network that is not external (400 UNKNOWN_NETWORK)', async () => {
        const named = await api.call<FloatingIpBody>('POST', '/api/v1/floating-ips', { body: { network: target.externalNetwork } });
        expect(named.status).toBe(201);
        fips.push(named.body.id);
        const internal = await api.call<ProblemBody>('POST', '/api/v1/floating-ips', { body: { network: target.defaultNetwork } });
        expect(internal.status).toBe(400);
        expect(internal.body.code).toBe('UNKNOWN_NETWORK');
      });

      it('associates with a VM, refuses a second one for the same VM (409), disassociates, and the VM shows it meanwhile', async () => {
        const vm = await routedVm();
        const fip = await newFip();
        const associated = await api.call<FloatingIpBody>('POST', `/api/v1/floating-ips/${fip.id}/associate`, { body: { vm: vm.id } });
        expect(associated.status, JSON.stringify(associated.body)).toBe(200);
        expect(associated.body.vm_id).toBe(vm.id);
        expect((await api.call<FloatingIpBody>('GET', `/api/v1/floating-ips/${fip.id}`)).body.vm_id).toBe(vm.id);
        if (target.vmShowsFloatingIpAtOnce) expect((await getVm(vm.id)).floating_ip).toBe(fip.address);

        const again = await api.call<FloatingIpBody>('POST', `/api/v1/floating-ips/${fip.id}/associate`, { body: { vm: vm.id } });
        expect(again.status).toBe(200);

        const second = await newFip();
        const refused = await api.call<ProblemBody>('POST', `/api/v1/floating-ips/${second.id}/associate`, { body: { vm: vm.id } });
        expect(refused.status).toBe(409);
        expect(refused.body.code).toBe('VM_HAS_FLOATING_IP');

        const other = await routedVm(1);
        const taken = await api.call<ProblemBody>('POST', `/api/v1/floating-ips/${fip.id}/associate`, { body: { vm: other.id } });
        expect(taken.status).toBe(409);
        expect(taken.body.code).toBe('RESOURCE_IN_USE');

        const disassociated = await api.call<FloatingIpBody>('POST', `/api/v1/floating-ips/${fip.id}/disassociate`);
        expect(disassociated.status).toBe(200);
        expect(disassociated.body).toMatchObject({ vm_id: null, status: 'DOWN' });
        if (target.vmShowsFloatingIpAtOnce) expect((await getVm(vm.id)).floating_ip).toBeNull();
      }, SLOW_MS);

      it('a VM on the default network takes a floating IP if that network is routed, and 409 VM_UNREACHABLE saying so if not', async () => {
        const vm = await (defaultVm ??= newVm());
        const fip = await newFip();
        const response = await api.call<FloatingIpBody & ProblemBody>('POST', `/api/v1/floating-ips/${fip.id}/associate`, { body: { vm: vm.id } });
        if (target.defaultNetworkRouted) {
          expect(response.status, JSON.stringify(response.body)).toBe(200);
          expect(response.body.vm_id).toBe(vm.id);
          await api.call('POST', `/api/v1/floating-ips/${fip.id}/disassociate`);
        } else {
          expect(response.status).toBe(409);
          expect(response.body.code).toBe('VM_UNREACHABLE');
          expect(response.body.detail).toMatch(/router|external/);
        }
      }, SLOW_MS);

      it('releases an associated floating IP (DELETE disassociates first): 404 afterwards', async () => {
        const vm = await routedVm();
        const fip = await newFip();
        await api.call('POST', `/api/v1/floating-ips/${fip.id}/associate`, { body: { vm: vm.id } });
        const released = await api.call<FloatingIpBody>('DELETE', `/api/v1/floating-ips/${fip.id}`);
        expect(released.status).toBe(200);
        expect(released.body.id).toBe(fip.id);
        expect((await api.call<ProblemBody>('GET', `/api/v1/floating-ips/${fip.id}`)).body.code).toBe('FLOATING_IP_NOT_FOUND');
        if (target.vmShowsFloatingIpAtOnce) expect((await getVm(vm.id)).floating_ip).toBeNull();
        const anotherFip = await newFip();
        expect((await api.call('POST', `/api/v1/floating-ips/${anotherFip.id}/associate`, { body: { vm: vm.id } })).status).toBe(200);
        await api.call('POST', `/api/v1/floating-ips/${anotherFip.id}/disassociate`);
      }, SLOW_MS);

      it('answers 404 for an unknown floating IP, and VM_NOT_FOUND for an unknown VM in the body', async () => {
        for (const [method, path, body] of [
          ['GET', '', undefined],
          ['DELETE', '', undefined],
          ['POST', '/disassociate', undefined],
          ['POST', '/associate', { vm: '00000000-0000-4000-8000-000000000000' }],
        ] as const) {
          const response = await api.call<ProblemBody>(method, `/api/v1/floating-ips/00000000-0000-4000-8000-0000000000ff${path}`, { ...(body && { body }) });
          expect(response.status).toBe(404);
          expect(response.body.code).toBe('FLOATING_IP_NOT_FOUND');
        }
        const fip = await newFip();
        const unknownVm = await api.call<ProblemBody>('POST', `/api/v1/floating-ips/${fip.id}/associate`, { body: { vm: '00000000-0000-4000-8000-000000000000' } });
        expect(unknownVm.status).toBe(404);
        expect(unknownVm.body.code).toBe('VM_NOT_FOUND');
        const notUuid = await api.call<ProblemBody>('POST', `/api/v1/floating-ips/${fip.id}/associate`, { body: { vm: 'web-1' } });
        expect(notUuid.status).toBe(400);
      });
    });

    if (options.twoTenants) {
      describe('tenant isolation', () => {
        it('another tenant sees neither the network nor the floating IP (the same 404 as an unknown id), and may use the same network name', async () => {
          const other = new ApiClient(target.baseUrl, target.otherTenant);
          const network = await newNetwork();
          const fip = await newFip();
          const unknownNetwork = await api.call<ProblemBody>('GET', `/api/v1/networks/${prefix}-nothing`);
          for (const path of [`/api/v1/networks/${network.id}`, `/api/v1/networks/${network.name}`]) {
            const response = await other.call<ProblemBody>('GET', path);
            expect(response.status).toBe(404);
            expect(response.body.code).toBe(unknownNetwork.body.code);
          }
          expect((await other.call<{ data: NetworkBody[] }>('GET', '/api/v1/networks')).body.data.map((n) => n.id)).not.toContain(network.id);
          expect((await other.call<ProblemBody>('DELETE', `/api/v1/networks/${network.id}`)).status).toBe(404);
          expect((await other.call<ProblemBody>('GET', `/api/v1/floating-ips/${fip.id}`)).status).toBe(404);
          expect((await other.call<{ data: FloatingIpBody[] }>('GET', '/api/v1/floating-ips')).body.data.map((f) => f.id)).not.toContain(fip.id);

          const same = await other.call<NetworkBody>('POST', '/api/v1/networks', { body: { name: network.name, cidr: network.cidr } });
          expect(same.status).toBe(201);
          await other.call('DELETE', `/api/v1/networks/${same.body.id}`);
        });

        it('another tenant can neither plug a VM into my network nor point its floating IP at my VM', async () => {
          const other = new ApiClient(target.baseUrl, target.otherTenant);
          const network = await newNetwork();
          const vm = await routedVm();
          const create = await other.createVm({ name: nextName(), flavor: target.flavor, image: target.image, networks: [network.id] });
          expect(create.status).toBe(400);
          expect((create.body as unknown as ProblemBody).code).toBe('UNKNOWN_NETWORK');
          const theirs = await other.call<FloatingIpBody>('POST', '/api/v1/floating-ips', { body: {} });
          expect(theirs.status).toBe(201);
          const associate = await other.call<ProblemBody>('POST', `/api/v1/floating-ips/${theirs.body.id}/associate`, { body: { vm: vm.id } });
          expect(associate.status).toBe(404);
          expect(associate.body.code).toBe('VM_NOT_FOUND');
          await other.call('DELETE', `/api/v1/floating-ips/${theirs.body.id}`);
        }, SLOW_MS);
      });
    }
  });
}
