import { ApiError } from '../../domain/errors.js';
import type { Flavor, VmFault } from '../../domain/vm.js';
import type { QuotaUsage } from '../../repository/vm-repository.js';
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

interface Usage {
  instances: number;
  vcpus: number;
  ramMb: number;
}

/**
 * What VMs hold: each tenant's quota usage (every VM not deleted; the MOCK_QUOTA_* limits apply to
 * each tenant), the host's room (placed VMs only, shared by all tenants) and the address pool. Room is taken when a create or resize is accepted, not when it
 * settles, so that concurrent requests cannot overbook.
 */
export class Capacity {
  private readonly usageByTenant = new Map<string, Usage>();
  private readonly hostUsage = { vcpus: 0, ramMb: 0 };

  constructor(private readonly limits: CapacityLimits) {}

  /** Counts a new VM against its tenant's quota, or throws QUOTA_EXCEEDED. */
  claim(tenant: string, flavor: Flavor): void {
    const usage = this.usage(tenant);
    this.assertQuota(usage, 1, flavor.vcpus, flavor.ram_mb);
    usage.instances += 1;
    usage.vcpus += flavor.vcpus;
    usage.ramMb += flavor.ram_mb;
  }

  /** A tenant's usage against its limits, as GET /quotas shows it. */
  quotaOf(tenant: string): QuotaUsage {
    const usage = this.usageByTenant.get(tenant) ?? { instances: 0, vcpus: 0, ramMb: 0 };
    return {
      instances: { limit: this.limits.quotaInstances, used: usage.instances },
      vcpus: { limit: this.limits.quotaVcpus, used: usage.vcpus },
      ram_mb: { limit: this.limits.quotaRamMb, used: usage.ramMb },
    };
  }

  /**
   * Takes room on the host and an address on each of the VM's networks (their pools: networks.ts);
   * a VM that gets either not fails with a fault and holds nothing.
   */
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
    const ips: number[] = [];
    for (const entry of stored.networks) {
      const ip = entry.pool.allocate();
      if (ip === null) {
        stored.networks.forEach((e, i) => i < ips.length && e.pool.release(ips[i] as number));
        return { fault: { code: 'NO_IP_AVAILABLE', message: `No free address left in ${entry.network.cidr}`, at } };
      }
      ips.push(ip);
    }
    stored.networks.forEach((entry) => entry.ports.add(stored.id));
    stored.ip = ips[0] ?? null;
    stored.extraIps = ips.length > 1 ? ips.slice(1) : null;
    stored.placed = true;
    this.hostUsage.vcpus += flavor.vcpus;
    this.hostUsage.ramMb += flavor.ram_mb;
    return { fault: null };
  }

  /** Gives back everything a deleted VM held. */
  release(stored: StoredVm): void {
    if (stored.ip !== null) {
      stored.networks.forEach((entry, i) => {
        entry.pool.release(i === 0 ? (stored.ip as number) : (stored.extraIps?.[i - 1] as number));
        entry.ports.delete(stored.id);
      });
    }
    stored.ip = null;
    stored.extraIps = null;
    if (stored.placed) {
      this.hostUsage.vcpus -= stored.held.vcpus;
      this.hostUsage.ramMb -= stored.held.ram_mb;
    }
    const usage = this.usage(stored.tenant);
    usage.instances -= 1;
    usage.vcpus -= stored.held.vcpus;
    usage.ramMb -= stored.held.ram_mb;
    if (usage.instances === 0) this.usageByTenant.delete(stored.tenant);
  }

  /** Holds the new flavor's room from now on, or throws QUOTA_EXCEEDED / INSUFFICIENT_CAPACITY. */
  resize(stored: StoredVm, to: Flavor): void {
    const from = stored.held;
    const vcpus = to.vcpus - from.vcpus;
    const ramMb = to.ram_mb - from.ram_mb;
    const usage = this.usage(stored.tenant);
    this.assertQuota(usage, 0, vcpus, ramMb);
    if (!this.hostFits(vcpus, ramMb)) {
      throw new ApiError(
        'INSUFFICIENT_CAPACITY',
        `No host has room to resize ${stored.name} to ${to.name} (${to.vcpus} vCPUs, ${to.ram_mb} MB RAM)`,
      );
    }
    usage.vcpus += vcpus;
    usage.ramMb += ramMb;
    if (stored.placed) {
      this.hostUsage.vcpus += vcpus;
      this.hostUsage.ramMb += ramMb;
    }
    stored.held = to;
  }

  private hostFits(vcpus: number, ramMb: number): boolean {
    return this.hostUsage.vcpus + vcpus <= this.limits.capacityVcpus && this.hostUsage.ramMb + ramMb <= this.limits.capacityRamMb;
  }

  private usage(tenant: string): Usage {
    let usage = this.usageByTenant.get(tenant);
    if (!usage) {
      usage = { instances: 0, vcpus: 0, ramMb: 0 };
      this.usageByTenant.set(tenant, usage);
    }
    return usage;
  }

  private assertQuota(usage: Usage, instances: number, vcpus: number, ramMb: number): void {
    const checks: [string, number, number, number][] = [
      ['instances', instances, usage.instances, this.limits.quotaInstances],
      ['vcpus', vcpus, usage.vcpus, this.limits.quotaVcpus],
      ['ram_mb', ramMb, usage.ramMb, this.limits.quotaRamMb],
    ];
    for (const [what, requested, used, limit] of checks) {
      if (limit >= 0 && requested > 0 && used + requested > limit) {
        throw new ApiError('QUOTA_EXCEEDED', `Quota exceeded for ${what}: requested ${requested}, already used ${used} of ${limit}`);
      }
    }
  }
}
