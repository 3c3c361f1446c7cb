import { ApiError } from '../../domain/errors.js';
import type { FloatingIp, Network } from '../../domain/network.js';
import type { Scope } from '../../domain/tenancy.js';
import type { Connection } from '../../openstack/index.js';
import type { CreateNetworkInput, FloatingIpRepository, NetworkRepository } from '../../repository/network-repository.js';

const notYet = () => new ApiError('BACKEND_UNAVAILABLE', 'Networks are not built on the OpenStack backend yet', { upstream: 'error' });

/** Neutron networks (work in progress: reads only). */
export class OpenStackNetworkRepository implements NetworkRepository {
  constructor(private readonly connectionFor: (scope: Scope) => Connection) {}

  async create(_scope: Scope, _input: CreateNetworkInput): Promise<Network> {
    throw notYet();
  }

  async list(_scope: Scope): Promise<Network[]> {
    throw notYet();
  }

  async find(_scope: Scope, _idOrName: string): Promise<Network | undefined> {
    throw notYet();
  }

  async rename(_scope: Scope, _id: string, _name: string): Promise<Network> {
    throw notYet();
  }

  async delete(_scope: Scope, _id: string): Promise<Network> {
    throw notYet();
  }
}

export class OpenStackFloatingIpRepository implements FloatingIpRepository {
  constructor(private readonly connectionFor: (scope: Scope) => Connection) {}

  async allocate(_scope: Scope, _network: Network): Promise<FloatingIp> {
    throw notYet();
  }

  async list(_scope: Scope): Promise<FloatingIp[]> {
    throw notYet();
  }

  async get(_scope: Scope, _id: string): Promise<FloatingIp | undefined> {
    throw notYet();
  }

  async associate(_scope: Scope, _id: string, _vmId: string): Promise<FloatingIp> {
    throw notYet();
  }

  async disassociate(_scope: Scope, _id: string): Promise<FloatingIp> {
    throw notYet();
  }

  async release(_scope: Scope, _id: string): Promise<FloatingIp> {
    throw notYet();
  }
}
