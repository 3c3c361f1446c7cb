import type { FloatingIp, Network, NetworkRef } from '../../domain/network.js';
import type { Scope } from '../../domain/tenancy.js';
import type { CreateNetworkInput, FloatingIpRepository, NetworkRepository } from '../../repository/network-repository.js';
import type { MemoryNetworks } from './networks.js';

/** The network port over the memory backend's networking (networks.ts). */
export class MemoryNetworkRepository implements NetworkRepository {
  constructor(private readonly state: MemoryNetworks) {}

  async create(scope: Scope, input: CreateNetworkInput): Promise<Network> {
    return this.state.create(scope, input.name, input.cidr);
  }

  async list(scope: Scope): Promise<Network[]> {
    return this.state.list(scope);
  }

  async find(scope: Scope, idOrName: string): Promise<Network | undefined> {
    return this.state.find(scope, idOrName);
  }

  async resolve(scope: Scope, idsOrNames: readonly string[]): Promise<(NetworkRef | undefined)[]> {
    return idsOrNames.map((ref) => this.state.find(scope, ref));
  }

  async rename(scope: Scope, id: string, name: string): Promise<Network> {
    return this.state.rename(scope, id, name);
  }

  async delete(scope: Scope, id: string): Promise<Network> {
    return this.state.delete(scope, id);
  }

  async tenantOwnsNetworks(tenant: string): Promise<boolean> {
    return this.state.tenantOwnsNetworks(tenant);
  }
}

/** The floating-IP port over the same state. */
export class MemoryFloatingIpRepository implements FloatingIpRepository {
  constructor(private readonly state: MemoryNetworks) {}

  async allocate(scope: Scope, network: Network): Promise<FloatingIp> {
    return this.state.allocate(scope, network);
  }

  async list(scope: Scope): Promise<FloatingIp[]> {
    return this.state.listFloatingIps(scope);
  }

  async get(scope: Scope, id: string): Promise<FloatingIp | undefined> {
    return this.state.getFloatingIp(scope, id);
  }

  async associate(scope: Scope, id: string, vmId: string): Promise<FloatingIp> {
    return this.state.associate(scope, id, vmId);
  }

  async disassociate(scope: Scope, id: string): Promise<FloatingIp> {
    return this.state.disassociate(scope, id);
  }

  async release(scope: Scope, id: string): Promise<FloatingIp> {
    return this.state.release(scope, id);
  }

  async tenantOwnsFloatingIps(tenant: string): Promise<boolean> {
    return this.state.tenantOwnsFloatingIps(tenant);
  }
}
