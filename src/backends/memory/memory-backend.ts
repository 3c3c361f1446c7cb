import type { Backend, Readiness } from '../../repository/backend.js';
import type { Flavor } from '../../domain/vm.js';
import { MemoryCatalog, seedFlavors, seedImages } from './catalog.js';
import { MemoryFloatingIpRepository, MemoryNetworkRepository } from './memory-network-repository.js';
import { MemoryVmRepository, type MemoryLimits } from './memory-vm-repository.js';
import { MemorySecurityGroupRepository } from './memory-security-group-repository.js';
import { MemoryVolumeRepository } from './memory-volume-repository.js';
import type { StorageLimits } from './storage.js';
import { MemoryTenantDirectory } from './tenant-directory.js';

export type { MemoryLimits };

export const DAY_MS = 86_400_000;

/** `extraFlavors` join the seed's, e.g. one that no host can hold, to reach ERROR on purpose. */
/** Cinder's default quotas (volumes 10, gigabytes 1000) and a 10 TiB pool, unless configured. */
export const defaultStorageLimits: StorageLimits = { storageGb: 10_240, quotaVolumes: 10, quotaGigabytes: 1_000 };

export function createMemoryBackend(
  limits: MemoryLimits & Partial<StorageLimits>,
  options: { now?: () => number; extraFlavors?: readonly Flavor[] } = {},
): Backend {
  const volumes = new MemoryVolumeRepository({ ...defaultStorageLimits, ...limits }, options.now);
  // Each needs the other: a VM shows its groups' names, a group may not go while a VM uses it.
  const vms: MemoryVmRepository = new MemoryVmRepository(limits, options.now, (id) => securityGroups.nameOf(id), volumes);
  const securityGroups = new MemorySecurityGroupRepository(vms, options.now);
  return {
    name: 'memory',
    vms,
    catalog: new MemoryCatalog([...seedFlavors, ...(options.extraFlavors ?? [])], seedImages),
    tenants: new MemoryTenantDirectory(options.now),
    securityGroups,
    networks: new MemoryNetworkRepository(vms.networking),
    floatingIps: new MemoryFloatingIpRepository(vms.networking),
    volumes,
    async checkReady(): Promise<Readiness> {
      return { ready: true, checks: [{ name: 'memory', ok: true }] };
    },
    async close() {
      vms.close();
      volumes.close();
    },
  };
}
