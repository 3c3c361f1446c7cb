import { ApiError } from '../../domain/errors.js';
import type { VolumeQuotaUsage } from '../../repository/volume-repository.js';

export interface StorageLimits {
  /** The pool every tenant's volumes share (MOCK_STORAGE_GB). */
  storageGb: number;
  /** Each tenant's quotas, Cinder's defaults unless configured; -1 is unlimited. */
  quotaVolumes: number;
  quotaGigabytes: number;
}

interface Usage {
  volumes: number;
  gigabytes: number;
}

/**
 * What volumes hold: each tenant's quota usage (every volume not deleted, ERROR ones included, as
 * Cinder counts them) and the pool's room (volumes that were made only). Taken when a create or
 * extend is accepted, so that concurrent requests cannot overbook.
 */
export class Storage {
  private readonly usageByTenant = new Map<string, Usage>();
  private usedGb = 0;

  constructor(private readonly limits: StorageLimits) {}

  /** Throws QUOTA_EXCEEDED if the tenant cannot hold `count` more volumes of `gigabytes` in all; changes nothing. */
  check(tenant: string, count: number, gigabytes: number): void {
    const usage = this.usageByTenant.get(tenant) ?? { volumes: 0, gigabytes: 0 };
    const checks: [string, number, number, number][] = [
      ['volumes', count, usage.volumes, this.limits.quotaVolumes],
      ['gigabytes', gigabytes, usage.gigabytes, this.limits.quotaGigabytes],
    ];
    for (const [what, requested, used, limit] of checks) {
      if (limit >= 0 && requested > 0 && used + requested > limit) {
        throw new ApiError('QUOTA_EXCEEDED', `Quota exceeded for ${what}: requested ${requested}, already used ${used} of ${limit}`);
      }
    }
  }

  /** Counts them against the tenant's quota, or throws QUOTA_EXCEEDED and counts nothing. */
  claim(tenant: string, count: number, gigabytes: number): void {
    this.check(tenant, count, gigabytes);
    const usage = this.usageByTenant.get(tenant) ?? { volumes: 0, gigabytes: 0 };
    usage.volumes += count;
    usage.gigabytes += gigabytes;
    this.usageByTenant.set(tenant, usage);
  }

  unclaim(tenant: string, count: number, gigabytes: number): void {
    const usage = this.usageByTenant.get(tenant);
    if (!usage) return;
    usage.volumes -= count;
    usage.gigabytes -= gigabytes;
    if (usage.volumes <= 0) this.usageByTenant.delete(tenant);
  }

  /** Takes room in the pool, or says there is none (and takes nothing). */
  take(gigabytes: number): boolean {
    if (this.usedGb + gigabytes > this.limits.storageGb) return false;
    this.usedGb += gigabytes;
    return true;
  }

  free(gigabytes: number): void {
    this.usedGb = Math.max(0, this.usedGb - gigabytes);
  }

  quotaOf(tenant: string): VolumeQuotaUsage {
    const usage = this.usageByTenant.get(tenant) ?? { volumes: 0, gigabytes: 0 };
    return {
      volumes: { limit: this.limits.quotaVolumes, used: usage.volumes },
      gigabytes: { limit: this.limits.quotaGigabytes, used: usage.gigabytes },
    };
  }

  get freeGb(): number {
    return this.limits.storageGb - this.usedGb;
  }
}
