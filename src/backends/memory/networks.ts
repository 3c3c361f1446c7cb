import { v4 as uuidv4 } from 'uuid';
import { ApiError } from '../../domain/errors.js';
import { gatewayOf, networkQuotas, overlaps, parseNetworkCidr, type FloatingIp, type Ipv4Prefix, type Network } from '../../domain/network.js';
import { scopeSees, type Scope } from '../../domain/tenancy.js';
import { IpPool, formatIpv4, parseIpv4 } from './ip-pool.js';

/** A network and what is plugged into it: the addresses handed out and the VMs holding them. */
export interface NetworkEntry {
  readonly network: Network;
  readonly pool: IpPool;
  /** The VMs (not deleted) with a port on it. */
  readonly ports: Set<string>;
}

interface StoredFloatingIp {
  readonly fip: FloatingIp;
  readonly ip: number;
}

/** What a floating IP change asks of the VM it points at (the VM repository does it). */
export interface FloatingIpTarget {
  /** Throws VM_NOT_FOUND, or VM_UNREACHABLE when the VM has no port; returns nothing on success. */
  assertAssociable(scope: Scope, vmId: string): void;
  /** Shows the address on the VM (null: none), as a change of the VM. */
  showFloatingIp(vmId: string, address: string | null): void;
}

/** A tenant's networks share its router, so their subnets may not overlap (Neutron refuses it too). */
function overlapError(other: { name: string; cidr: string }): ApiError {
  const message = `overlaps ${other.cidr} of the tenant's network ${other.name}: a tenant's networks share one router`;
  return new ApiError('VALIDATION_ERROR', `Invalid body: body.cidr (${message})`, { errors: [{ path: 'body.cidr', message }] });
}

export const PRIVATE_NETWORK = 'private';
export const PUBLIC_NETWORK = 'public';

/**
 * The memory backend's networking, as one small Neutron would hold it: a shared `private` network
 * (MOCK_IP_CIDR, every VM's by default), an external `public` one whose pool is MOCK_FLOATING_CIDR,
 * the tenants' own networks (each routed to `public`, as the OpenStack adapter routes them), and
 * floating IPs. Every method works inside one tick, so checks and changes are atomic. The quotas
 * are Neutron's defaults, per tenant (src/domain/network.ts).
 */
export class MemoryNetworks {
  /** What a VM is plugged into when its create names no network. */
  readonly defaultNetworks: readonly NetworkEntry[];
  readonly external: NetworkEntry;
  private readonly byId = new Map<string, NetworkEntry>();
  private readonly fips = new Map<string, StoredFloatingIp>();
  private readonly fipByVm = new Map<string, StoredFloatingIp>();
  private target: FloatingIpTarget | undefined;

  constructor(
    privateCidr: string,
    floatingCidr: string,
    private readonly now: () => number = Date.now,
  ) {
    const cloudNetwork = (name: string, cidr: string, external: boolean): NetworkEntry => {
      const [address = '', prefix = ''] = cidr.split('/');
      const base = parseIpv4(address) - (parseIpv4(address) % 2 ** (32 - Number(prefix)));
      return this.add(
        { id: uuidv4(), name, cidr: `${formatIpv4(base)}/${prefix}`, gateway_ip: formatIpv4(base + 1), external, shared: !external, status: 'ACTIVE', tenant: null, created_at: this.iso() },
        new IpPool(cidr),
      );
    };
    this.defaultNetworks = [cloudNetwork(PRIVATE_NETWORK, privateCidr, false)];
    this.external = cloudNetwork(PUBLIC_NETWORK, floatingCidr, true);
  }

  /** Set once by the backend: the VM repository, which shows a VM's floating IP. */
  connect(target: FloatingIpTarget): void {
    this.target = target;
  }

  // --- networks ---

  create(scope: Scope, name: string, cidr: string): Network {
    if (this.visible(scope).some((e) => e.network.name === name)) {
      throw new ApiError('NETWORK_NAME_TAKEN', `A network named "${name}" exists already`);
    }
    const owned = [...this.byId.values()].filter((e) => e.network.tenant === scope.tenant).length;
    if (owned >= networkQuotas.network) {
      throw new ApiError('QUOTA_EXCEEDED', `The tenant has ${owned} networks, its quota (${networkQuotas.network})`);
    }
    const prefix = parseNetworkCidr(cidr);
    if (typeof prefix === 'string') throw new Error(`unchecked cidr ${cidr}: ${prefix}`);
    const clash = [...this.byId.values()].find((e) => e.network.tenant === scope.tenant && overlaps(parseNetworkCidr(e.network.cidr) as Ipv4Prefix, prefix));
    if (clash) throw overlapError(clash.network);
    const network: Network = { id: uuidv4(), name, cidr, gateway_ip: gatewayOf(prefix), external: false, shared: false, status: 'ACTIVE', tenant: scope.tenant, created_at: this.iso() };
    return { ...this.add(network, new IpPool(cidr)).network };
  }

  list(scope: Scope): Network[] {
    return this.visible(scope).map((e) => ({ ...e.network }));
  }

  tenantOwnsNetworks(tenant: string): boolean {
    for (const entry of this.byId.values()) if (entry.network.tenant === tenant) return true;
    return false;
  }

  tenantOwnsFloatingIps(tenant: string): boolean {
    for (const stored of this.fips.values()) if (stored.fip.tenant === tenant) return true;
    return false;
  }

  find(scope: Scope, idOrName: string): Network | undefined {
    const visible = this.visible(scope);
    const found = visible.find((e) => e.network.id === idOrName) ?? visible.find((e) => e.network.name === idOrName);
    return found && { ...found.network };
  }

  /** The entry of a network the scope may plug a VM into; UNKNOWN_NETWORK otherwise (gone since it was resolved). */
  entryFor(scope: Scope, id: string): NetworkEntry {
    const entry = this.byId.get(id);
    if (!entry || entry.network.external || !this.sees(scope, entry)) {
      throw new ApiError('UNKNOWN_NETWORK', `No network ${id} to plug a VM into`, { errors: [{ path: 'networks', message: 'unknown network' }] });
    }
    return entry;
  }

  rename(scope: Scope, id: string, name: string): Network {
    const entry = this.owned(scope, id);
    if (this.visible(scope).some((e) => e !== entry && e.network.name === name)) {
      throw new ApiError('NETWORK_NAME_TAKEN', `A network named "${name}" exists already`);
    }
    entry.network.name = name;
    return { ...entry.network };
  }

  delete(scope: Scope, id: string): Network {
    const entry = this.owned(scope, id);
    const [vm] = entry.ports;
    if (vm !== undefined) {
      throw new ApiError('RESOURCE_IN_USE', `The network is in use by VM ${vm}${entry.ports.size > 1 ? ` and ${entry.ports.size - 1} more` : ''}; delete them first`);
    }
    this.byId.delete(id);
    return { ...entry.network };
  }

  // --- floating IPs ---

  allocate(scope: Scope, network: Network): FloatingIp {
    const entry = this.byId.get(network.id);
    if (!entry?.network.external) throw new ApiError('UNKNOWN_NETWORK', `${network.name} is not an external network`);
    const held = [...this.fips.values()].filter((f) => f.fip.tenant === scope.tenant).length;
    if (held >= networkQuotas.floatingip) {
      throw new ApiError('QUOTA_EXCEEDED', `The tenant holds ${held} floating IPs, its quota (${networkQuotas.floatingip})`);
    }
    const ip = entry.pool.allocate();
    if (ip === null) throw new ApiError('POOL_EXHAUSTED', `The external network ${entry.network.name} (${entry.network.cidr}) has no address left`);
    const fip: FloatingIp = { id: uuidv4(), address: formatIpv4(ip), network: network.id, vm_id: null, status: 'DOWN', tenant: scope.tenant, created_at: this.iso() };
    this.fips.set(fip.id, { fip, ip });
    return { ...fip };
  }

  listFloatingIps(scope: Scope): FloatingIp[] {
    return [...this.fips.values()].filter((f) => scopeSees(scope, f.fip.tenant)).map((f) => ({ ...f.fip }));
  }

  getFloatingIp(scope: Scope, id: string): FloatingIp | undefined {
    const stored = this.visibleFip(scope, id);
    return stored && { ...stored.fip };
  }

  associate(scope: Scope, id: string, vmId: string): FloatingIp {
    const stored = this.mustFip(scope, id);
    this.connected().assertAssociable(scope, vmId);
    if (stored.fip.vm_id === vmId) return { ...stored.fip };
    const other = this.fipByVm.get(vmId);
    if (other) throw new ApiError('VM_HAS_FLOATING_IP', `The VM ${vmId} has the floating IP ${other.fip.address} already`);
    if (stored.fip.vm_id !== null) {
      throw new ApiError('RESOURCE_IN_USE', `The floating IP ${stored.fip.address} is associated with VM ${stored.fip.vm_id}; disassociate it first`);
    }
    stored.fip.vm_id = vmId;
    stored.fip.status = 'ACTIVE';
    this.fipByVm.set(vmId, stored);
    this.connected().showFloatingIp(vmId, stored.fip.address);
    return { ...stored.fip };
  }

  disassociate(scope: Scope, id: string): FloatingIp {
    const stored = this.mustFip(scope, id);
    this.unlink(stored);
    return { ...stored.fip };
  }

  release(scope: Scope, id: string): FloatingIp {
    const stored = this.mustFip(scope, id);
    this.unlink(stored);
    this.fips.delete(id);
    this.external.pool.release(stored.ip);
    return { ...stored.fip };
  }

  /** A VM is gone: its floating IP (if any) points nowhere now, and stays the tenant's. */
  vmGone(vmId: string): void {
    const stored = this.fipByVm.get(vmId);
    if (stored) this.unlink(stored);
  }

  private unlink(stored: StoredFloatingIp): void {
    const vmId = stored.fip.vm_id;
    if (vmId === null) return;
    stored.fip.vm_id = null;
    stored.fip.status = 'DOWN';
    this.fipByVm.delete(vmId);
    this.connected().showFloatingIp(vmId, null);
  }

  private connected(): FloatingIpTarget {
    if (!this.target) throw new Error('MemoryNetworks used before the VM repository was connected');
    return this.target;
  }

  private add(network: Network, pool: IpPool): NetworkEntry {
    const entry: NetworkEntry = { network, pool, ports: new Set() };
    this.byId.set(network.id, entry);
    return entry;
  }

  private visible(scope: Scope): NetworkEntry[] {
    return [...this.byId.values()].filter((e) => this.sees(scope, e));
  }

  private sees(scope: Scope, entry: NetworkEntry): boolean {
    return entry.network.tenant === null || scopeSees(scope, entry.network.tenant);
  }

  /** A network the service has checked is a tenant's own (the cloud's are refused before this). */
  private owned(scope: Scope, id: string): NetworkEntry {
    const entry = this.byId.get(id);
    if (!entry || entry.network.tenant === null || !scopeSees(scope, entry.network.tenant)) {
      throw new ApiError('NETWORK_NOT_FOUND', `No network with id ${id}`);
    }
    return entry;
  }

  private visibleFip(scope: Scope, id: string): StoredFloatingIp | undefined {
    const stored = this.fips.get(id);
    return stored && scopeSees(scope, stored.fip.tenant) ? stored : undefined;
  }

  private mustFip(scope: Scope, id: string): StoredFloatingIp {
    const stored = this.visibleFip(scope, id);
    if (!stored) throw new ApiError('FLOATING_IP_NOT_FOUND', `No floating IP with id ${id}`);
    return stored;
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }
}
