import { ApiError } from '../domain/errors.js';
import { parseNetworkCidr, type FloatingIp, type Network } from '../domain/network.js';
import type { Scope } from '../domain/tenancy.js';
import type { FloatingIpRepository, NetworkRepository } from '../repository/network-repository.js';
import type { VmRepository } from '../repository/vm-repository.js';

/**
 * The rules of networks and floating IPs (docs/contract.md section 9): the cidr rule, that the
 * cloud's own networks are seen by every tenant and changed by none, which network a floating IP
 * comes from, and that an associate names a VM the caller may see. The repositories hold the rest
 * (names, quotas, pools, what is in use), atomically where the backend can.
 */
export class NetworkService {
  constructor(
    private readonly networks: NetworkRepository,
    private readonly floatingIps: FloatingIpRepository,
    private readonly vms: Pick<VmRepository, 'get'>,
  ) {}

  async create(scope: Scope, input: { name: string; cidr: string }): Promise<Network> {
    const prefix = parseNetworkCidr(input.cidr);
    if (typeof prefix === 'string') {
      throw new ApiError('VALIDATION_ERROR', `Invalid body: body.cidr (${prefix})`, { errors: [{ path: 'body.cidr', message: prefix }] });
    }
    return this.networks.create(scope, input);
  }

  list(scope: Scope): Promise<Network[]> {
    return this.networks.list(scope);
  }

  async get(scope: Scope, idOrName: string): Promise<Network> {
    const network = await this.networks.find(scope, idOrName);
    if (!network) throw new ApiError('NETWORK_NOT_FOUND', `No network with id or name "${idOrName}"`);
    return network;
  }

  async rename(scope: Scope, idOrName: string, name: string): Promise<Network> {
    const network = await this.ownNetwork(scope, idOrName, 'rename');
    if (network.name === name) return network;
    return this.networks.rename(scope, network.id, name);
  }

  async delete(scope: Scope, idOrName: string): Promise<Network> {
    const network = await this.ownNetwork(scope, idOrName, 'delete');
    return this.networks.delete(scope, network.id);
  }

  /** From `network` (id or name), or from the one external network there is. */
  async allocateFloatingIp(scope: Scope, network: string | undefined): Promise<FloatingIp> {
    let external: Network | undefined;
    if (network === undefined) {
      const all = (await this.networks.list(scope)).filter((n) => n.external);
      if (all.length !== 1) {
        throw new ApiError('VALIDATION_ERROR', `The cloud has ${all.length} external networks; name one in \`network\``, {
          errors: [{ path: 'body.network', message: 'required: there is not exactly one external network' }],
        });
      }
      external = all[0];
    } else {
      external = await this.networks.find(scope, network);
      if (!external?.external) {
        throw new ApiError('UNKNOWN_NETWORK', `"${network}" is not an external network`, {
          errors: [{ path: 'network', message: 'not an external network; see GET /api/v1/networks' }],
        });
      }
    }
    return this.floatingIps.allocate(scope, external as Network);
  }

  listFloatingIps(scope: Scope): Promise<FloatingIp[]> {
    return this.floatingIps.list(scope);
  }

  async getFloatingIp(scope: Scope, id: string): Promise<FloatingIp> {
    const fip = await this.floatingIps.get(scope, id);
    if (!fip) throw new ApiError('FLOATING_IP_NOT_FOUND', `No floating IP with id ${id}`);
    return fip;
  }

  async associate(scope: Scope, id: string, vmId: string): Promise<FloatingIp> {
    await this.getFloatingIp(scope, id);
    const vm = await this.vms.get(scope, vmId);
    if (!vm || vm.vm.status === 'DELETED') throw new ApiError('VM_NOT_FOUND', `No VM with id ${vmId}`);
    return this.floatingIps.associate(scope, id, vmId);
  }

  async disassociate(scope: Scope, id: string): Promise<FloatingIp> {
    await this.getFloatingIp(scope, id);
    return this.floatingIps.disassociate(scope, id);
  }

  async release(scope: Scope, id: string): Promise<FloatingIp> {
    await this.getFloatingIp(scope, id);
    return this.floatingIps.release(scope, id);
  }

  private async ownNetwork(scope: Scope, idOrName: string, what: string): Promise<Network> {
    const network = await this.get(scope, idOrName);
    if (network.tenant === null) throw new ApiError('FORBIDDEN', `The network ${network.name} is the cloud's, shared with every tenant: no tenant may ${what} it`);
    return network;
  }
}
