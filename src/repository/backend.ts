import type { FloatingIpRepository, NetworkRepository } from './network-repository.js';
import type { SecurityGroupRepository } from './security-group-repository.js';
import type { TenantDirectory } from './tenant-directory.js';
import type { CatalogRepository, VmRepository } from './vm-repository.js';
import type { VolumeRepository } from './volume-repository.js';

/**
 * Everything a backend (memory, openstack) hands the app: one repository port per resource. Kept
 * apart from the ports, so that a port may name another's records without an import circle.
 */

export interface Readiness {
  ready: boolean;
  /** One entry per dependency, e.g. { name: 'nova', ok: false, detail: 'timed out after 5000 ms' }. */
  checks: { name: string; ok: boolean; detail?: string }[];
}

/** A backend as the app factory receives it. */
export interface Backend {
  readonly name: string;
  readonly vms: VmRepository;
  readonly catalog: CatalogRepository;
  readonly tenants: TenantDirectory;
  readonly securityGroups: SecurityGroupRepository;
  /** Networks and floating IPs (docs/contract.md section 9). */
  readonly networks: NetworkRepository;
  readonly floatingIps: FloatingIpRepository;
  readonly volumes: VolumeRepository;
  checkReady(): Promise<Readiness>;
  /** Stops timers and closes connections. */
  close(): Promise<void>;
}
