/**
 * What every bench process shares: the memory backend's limits for big runs, and how the store is
 * filled directly through the repository (not over HTTP), so that set-up takes seconds.
 */
import { DAY_MS, createMemoryBackend, type MemoryLimits } from '../src/backends/memory/memory-backend.js';
import type { StorageLimits } from '../src/backends/memory/storage.js';
import type { Backend } from '../src/repository/backend.js';
import type { Flavor, Image } from '../src/domain/vm.js';
import type { Scope } from '../src/domain/tenancy.js';

/** The scope the bench's VMs are made in: the default tenant, as with AUTH_MODE=none. */
export const benchScope: Scope = { tenant: 'default', keyId: null, role: 'member', requestId: 'bench' };

export const FLAVOR_NAMES = ['m1.tiny', 'm1.small', 'm1.medium', 'm1.large', 'm1.xlarge'] as const;
export const IMAGE_NAME = 'ubuntu-22.04';

/** No quota, room for millions of vCPUs, a /8 address pool: every created VM settles RUNNING or STOPPED. */
export const benchLimits: MemoryLimits & StorageLimits = {
  actionDelayMs: 0,
  capacityVcpus: 10_000_000,
  capacityRamMb: 1_000_000_000,
  quotaInstances: -1,
  quotaVcpus: -1,
  quotaRamMb: -1,
  ipCidr: '10.0.0.0/8',
  deletedRetentionMs: 3_600_000,
  maxTombstones: 10_000,
  idempotencyTtlMs: DAY_MS,
  maxIdempotencyKeys: 100_000,
  // Volumes: no quota, a pool no bench fills.
  storageGb: 1_000_000_000,
  quotaVolumes: -1,
  quotaGigabytes: -1,
};

export function createBenchBackend(): Backend {
  return createMemoryBackend(benchLimits);
}

export async function catalogOf(backend: Backend): Promise<{ flavors: Flavor[]; image: Image }> {
  const flavors: Flavor[] = [];
  for (const name of FLAVOR_NAMES) {
    const flavor = await backend.catalog.findFlavor(name);
    if (!flavor) throw new Error(`the catalog has no flavor ${name}`);
    flavors.push(flavor);
  }
  const image = await backend.catalog.findImage(IMAGE_NAME);
  if (!image) throw new Error(`the catalog has no image ${IMAGE_NAME}`);
  return { flavors, image };
}

/** The bench's tenants: the default one first, then `t-1`, `t-2`, ... */
export const benchTenant = (index: number): string => (index === 0 ? 'default' : `t-${index}`);

/**
 * Creates `count` VMs named `<prefix>-<i>` through the repository, flavors in turn, every other one
 * started, spread round-robin over `tenants` tenants (so each tenant's VMs are interleaved with the
 * others' in creation order). Calls `keep` with each new id of the default tenant.
 */
export async function populate(backend: Backend, count: number, prefix: string, keep?: (id: string, i: number) => void, tenants = 1): Promise<void> {
  const { flavors, image } = await catalogOf(backend);
  const scopes = Array.from({ length: tenants }, (_, t) => ({ ...benchScope, tenant: benchTenant(t) }));
  for (let i = 0; i < count; i++) {
    const scope = scopes[i % tenants] as Scope;
    const record = await backend.vms.create(scope, {
      name: `${prefix}-${i}`,
      flavor: flavors[i % flavors.length] as Flavor,
      image,
      start: i % 2 === 0,
    });
    if (scope.tenant === 'default') keep?.(record.vm.id, Math.floor(i / tenants));
  }
}

/** Creates `count` volumes named `<prefix>-<i>` (1 to 100 GB) in the default tenant, through the repository. */
export async function populateVolumes(backend: Backend, count: number, prefix: string): Promise<void> {
  for (let i = 0; i < count; i++) await backend.volumes.create(benchScope, { name: `${prefix}-${i}`, description: '', sizeGb: 1 + (i % 100) });
}

/** Up to `max` ids spread evenly over a population of `count`, for the GET-by-id scenario. */
export function sampleEvery(count: number, max: number): number {
  return Math.max(1, Math.floor(count / max));
}
