/**
 * Networks and floating IPs (docs/contract.md section 9), in the domain's words: no HTTP, no Neutron.
 */

/** A network with one IPv4 subnet: a tenant's own, or one the cloud shares with every tenant. */
export interface Network {
  id: string;
  name: string;
  /** The subnet's IPv4 prefix, e.g. 10.0.0.0/24. */
  cidr: string;
  /** The subnet's first host address, kept for the router. */
  gateway_ip: string | null;
  /** Floating IPs come from an external network; VMs are never plugged into one. */
  external: boolean;
  /** Shared with every tenant by the cloud (memory's `private`). */
  shared: boolean;
  /** ACTIVE, or what the cloud says (DOWN, BUILD, ERROR). */
  status: string;
  /** The owning tenant; null for the cloud's own shared and external networks. */
  tenant: string | null;
  created_at: string;
}

/** What a VM create needs of a network named in its body: which one, and whether VMs may be plugged into it. */
export type NetworkRef = Pick<Network, 'id' | 'name' | 'external'>;

export const floatingIpStatuses = ['ACTIVE', 'DOWN', 'ERROR'] as const;
export type FloatingIpStatus = (typeof floatingIpStatuses)[number];

export interface FloatingIp {
  id: string;
  address: string;
  /** The id of the external network it was taken from. */
  network: string;
  /** The VM it is associated with, or null. */
  vm_id: string | null;
  /**
   * Neutron's: ACTIVE once an L3 agent has plumbed an associated address, DOWN otherwise. The
   * memory backend behaves as a cloud with agents (ACTIVE while associated); a cloud without an
   * L3 agent (the local one) keeps it DOWN even when associated (docs/contract.md section 9).
   */
  status: FloatingIpStatus;
  tenant: string;
  created_at: string;
}

/** One of a VM's networks: the network and the VM's fixed address on it. */
export interface VmNetwork {
  id: string;
  name: string;
  ip_address: string | null;
}

/**
 * Neutron's default per-project quotas (neutron.conf [quotas]), the memory backend's limits. Each
 * network of this API is one Neutron network plus one subnet, and each tenant gets one router.
 */
export const networkQuotas = { network: 100, subnet: 100, floatingip: 50, router: 10 } as const;

/** The prefix lengths a network's cidr may have: large enough to matter, small enough to hold hosts. */
export const cidrPrefixRange = { min: 8, max: 29 } as const;

export interface Ipv4Prefix {
  /** The network address as a number. */
  base: number;
  prefix: number;
}

/**
 * Reads an IPv4 prefix of /8 to /29; the reason it is not one otherwise. The address must be the
 * network's own (10.0.0.0/24, not 10.0.0.5/24), as Neutron would otherwise silently change it.
 */
export function parseNetworkCidr(text: string): Ipv4Prefix | string {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  if (!match) return 'must be an IPv4 prefix such as 10.0.0.0/24';
  const octets = match.slice(1, 5).map(Number);
  if (octets.some((o) => o > 255) || match.slice(1, 5).some((o) => o.length > 1 && o.startsWith('0'))) {
    return 'must be an IPv4 prefix whose octets are 0 to 255, e.g. 10.0.0.0/24';
  }
  const prefix = Number(match[5]);
  if (prefix < cidrPrefixRange.min || prefix > cidrPrefixRange.max) {
    return `the prefix length must be /${cidrPrefixRange.min} to /${cidrPrefixRange.max}`;
  }
  const base = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  if (base % size !== 0) {
    const network = base - (base % size);
    return `the address is not the network's own: did you mean ${formatAddress(network)}/${prefix}?`;
  }
  return { base, prefix };
}

/** Whether two prefixes share an address: a tenant's subnets on its one router may not (Neutron's rule). */
export function overlaps(a: Ipv4Prefix, b: Ipv4Prefix): boolean {
  const aEnd = a.base + 2 ** (32 - a.prefix);
  const bEnd = b.base + 2 ** (32 - b.prefix);
  return a.base < bEnd && b.base < aEnd;
}

/** The subnet's first host address, where a router (or memory's gateway) sits. */
export function gatewayOf(cidr: Ipv4Prefix): string {
  return formatAddress(cidr.base + 1);
}

export function formatAddress(address: number): string {
  return `${Math.floor(address / 2 ** 24) % 256}.${Math.floor(address / 2 ** 16) % 256}.${Math.floor(address / 256) % 256}.${address % 256}`;
}
