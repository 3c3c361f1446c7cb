import type { FloatingIp, Network, NetworkRef } from '../domain/network.js';
import type { Scope } from '../domain/tenancy.js';

/**
 * The ports for networks and floating IPs (docs/contract.md section 9), in the domain's words, as
 * the VM's port is (vm-repository.ts): every call takes the caller's Scope first, and another
 * tenant's network or floating IP is, to the caller, one that does not exist. The cloud's shared and
 * external networks are seen by every tenant and changed by none.
 *
 * Errors are thrown as ApiError: NETWORK_NOT_FOUND, FLOATING_IP_NOT_FOUND, NETWORK_NAME_TAKEN,
 * RESOURCE_IN_USE, POOL_EXHAUSTED, VM_HAS_FLOATING_IP, VM_UNREACHABLE, QUOTA_EXCEEDED,
 * BACKEND_UNAVAILABLE, BACKEND_TIMEOUT.
 */

export interface CreateNetworkInput {
  name: string;
  /** Already checked by the domain's parseNetworkCidr. */
  cidr: string;
}

export interface NetworkRepository {
  /** A tenant network with its subnet, routed to the external network; NETWORK_NAME_TAKEN, QUOTA_EXCEEDED. */
  create(scope: Scope, input: CreateNetworkInput): Promise<Network>;
  /** The scope's tenant's networks, then the shared and external ones; oldest first. */
  list(scope: Scope): Promise<Network[]>;
  /** By id, else by name, among those `list` shows. */
  find(scope: Scope, idOrName: string): Promise<Network | undefined>;
  /**
   * Several at once, each by id, else by name, among those `list` shows (undefined for one it does
   * not see), in as few upstream calls as the backend can: a VM create names its networks with it.
   */
  resolve(scope: Scope, idsOrNames: readonly string[]): Promise<(NetworkRef | undefined)[]>;
  /** Renames a network of the scope's tenant (the service has checked it is one). */
  rename(scope: Scope, id: string, name: string): Promise<Network>;
  /** Deletes a network of the scope's tenant; RESOURCE_IN_USE naming the VM or floating IP that holds it. */
  delete(scope: Scope, id: string): Promise<Network>;
  /** Whether the tenant owns any network of its own (not the cloud's shared or external ones). */
  tenantOwnsNetworks(tenant: string): Promise<boolean>;
}

export interface FloatingIpRepository {
  /** An address from the external `network`; POOL_EXHAUSTED, QUOTA_EXCEEDED. */
  allocate(scope: Scope, network: Network): Promise<FloatingIp>;
  list(scope: Scope): Promise<FloatingIp[]>;
  get(scope: Scope, id: string): Promise<FloatingIp | undefined>;
  /**
   * Points the floating IP at VM `vmId`'s first port; VM_NOT_FOUND, VM_HAS_FLOATING_IP (the VM
   * has another one), RESOURCE_IN_USE (this one is on another VM), VM_UNREACHABLE (no port routed
   * to the external network). Associating it again with the same VM changes nothing.
   */
  associate(scope: Scope, id: string, vmId: string): Promise<FloatingIp>;
  disassociate(scope: Scope, id: string): Promise<FloatingIp>;
  /** Disassociates (if need be) and gives the address back to the pool. */
  release(scope: Scope, id: string): Promise<FloatingIp>;
  /** Whether the tenant holds any floating IP. */
  tenantOwnsFloatingIps(tenant: string): Promise<boolean>;
}
