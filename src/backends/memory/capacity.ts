import { ApiError } from '../../domain/errors.js';
import type { Flavor, VmFault } from '../../domain/vm.js';
import { IpPool } from './ip-pool.js';
import type { StoredVm } from './vm-store.js';

export interface CapacityLimits {
  capacityVcpus: number;
  capacityRamMb: number;
  /** -1 means unlimited. */
  quotaInstances: number;
  quotaVcpus: number;
  quotaRamMb: number;
  ipCidr: string;
}

/**
 * What VMs hold: the project's quota usage (every VM not deleted), the host's room (placed VMs
 * only) and the address pool. Room is taken when a create or resize is accepted, not when it
 * settles, so that concurrent requests cannot overbook.
 */
export class Capacity {
  private readonly usage = { instances: 0, vcpus: 0, ramMb: 0 };
  private readonly hostUsage = { vcpus: 0, ramMb: 0 };
  private readonly ipPool: IpPool;

  constructor(private readonly limits: CapacityLimits) {
    this.ipPool = new IpPool(limits.ipCidr);
  }

  /** Counts a new VM against the quota, or throws QUOTA_EXCEEDED. */
  claim(flavor: Flavor): void {
    this.assertQuota(1, flavor.vcpus, flavor.ram_mb);
    this.usage.instances += 1;
    this.usage.vcpus += flavor.vcpus;
    this.usage.ramMb += flavor.ram_mb;
  }

  /** Takes room on the host and an address; a VM that gets neither fails with a fault. */
  place(stored: StoredVm, flavor: Flavor, at: string): { fault: VmFault | null } {
    if (!this.hostFits(flavor.vcpus, flavor.ram_mb)) {
      return {
        fault: {
          code: 'NO_VALID_HOST',
          message: `No host has room for flavor ${flavor.name} (${flavor.vcpus} vCPUs, ${flavor.ram_mb} MB RAM)`,
          at,
        },
      };
    }
    const ip = this.ipPool.allocate();
    if (ip === null) {
      return { fault: { code: 'NO_IP_AVAILABLE', message: `No free address left in ${this.limits.ipCidr}`, at } };
    }
    stored.ip = ip;
    stored.placed = true;
    this.hostUsage.vcpus += flavor.vcpus;
    this.hostUsage.ramMb += flavor.ram_mb;
    return { fault: null };
  }

  /** Gives back everything a deleted VM held. */
  release(stored: StoredVm): void {
    if (stored.ip !== null) this.ipPool.release(stored.ip);
    stored.ip = null;
    if (stored.placed) {
      this.hostUsage.vcpus -= stored.held.vcpus;
      this.hostUsage.ramMb -= stored.held.ram_mb;
    }
    this.usage.instances -= 1;
    this.usage.vcpus -= stored.held.vcpus;
    this.usage.ramMb -= stored.held.ram_mb;
  }

  /** Holds the new flavor's room from now on, or throws QUOTA_EXCEEDED / INSUFFICIENT_CAPACITY. */
  resize(stored: StoredVm, to: Flavor): void {
    const from = stored.held;
    const vcpus = to.vcpus - from.vcpus;
    const ramMb = to.ram_mb - from.ram_mb;
    this.assertQuota(0, vcpus, ramMb);
    if (!this.hostFits(vcpus, ramMb)) {
      throw new ApiError(
        'INSUFFICIENT_CAPACITY',
        `No host has room to resize ${stored.name} to ${to.name} (${to.vcpus} vCPUs, ${to.ram_mb} MB RAM)`,
      );
    }
    this.usage.vcpus += vcpus;
    this.usage.ramMb += ramMb;
    if (stored.placed) {
      this.hostUsage.vcpus += vcpus;
      this.hostUsage.ramMb += ramMb;
    }
    stored.held = to;
  }

  private hostFits(vcpus: number, ramMb: number): boolean {
    return this.hostUsage.vcpus + vcpus <= this.limits.capacityVcpus && this.hostUsage.ramMb + ramMb <= this.limits.capacityRamMb;
  }

  private assertQuota(instances: number, vcpus: number, ramMb: number): void {
    const checks: [string, number, number, number][] = [
      ['instances', instances, this.usage.instances, this.limits.quotaInstances],
      ['vcpus', vcpus, this.usage.vcpus, this.limits.quotaVcpus],
      ['ram_mb', ramMb, this.usage.ramMb, this.limits.quotaRamMb],
    ];
    for (const [what, requested, used, limit] of checks) {
      if (limit >= 0 && requested > 0 && used + requested > limit) {
        throw new ApiError('QUOTA_EXCEEDED', `Quota exceeded for ${what}: requested ${requested}, already used ${used} of ${limit}`);
      }
    }
  }
}
