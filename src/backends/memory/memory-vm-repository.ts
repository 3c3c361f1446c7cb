import { ApiError } from '../../domain/errors.js';
import { scopeSees, type Scope } from '../../domain/tenancy.js';
import { assertAllowed } from '../../domain/transitions.js';
import type { DataDisk } from '../../domain/volume.js';
import type { Flavor, VmActionEntry, VmCommand, VmFault, VmStatus, VmTask } from '../../domain/vm.js';
import type {
  CommandGuard,
  CreateVmInput,
  ListVmsQuery,
  QuotaUsage,
  VmPage,
  VmRecord,
  VmRepository,
  SettledListener,
} from '../../repository/vm-repository.js';
import { ActionLog } from './action-log.js';
import { Capacity, type CapacityLimits } from './capacity.js';
import { IdempotencyKeys } from './idempotency-keys.js';
import { MemoryNetworks, type FloatingIpTarget } from './networks.js';
import { noDisks, type VmDisks } from './memory-volume-repository.js';
import { Tombstones } from './tombstones.js';
import { VmStore, type StoredVm } from './vm-store.js';

export interface MemoryLimits extends CapacityLimits {
  /** 0: every call settles before it answers; otherwise tasks settle after this delay. */
  actionDelayMs: number;
  deletedRetentionMs: number;
  /** Tombstones kept at most; past it the oldest goes before its retention ends. */
  maxTombstones: number;
  idempotencyTtlMs: number;
  /** Idempotency-Keys kept at most; past it the oldest goes before its lifetime ends. */
  maxIdempotencyKeys: number;
  /** The external network's pool of floating IPs (MOCK_FLOATING_CIDR); 203.0.113.0/24 if not said. */
  floatingCidr?: string;
}

export const DEFAULT_FLOATING_CIDR = '203.0.113.0/24';

/**
 * The Map-backed repository: the tasks' lifecycle (start, settle, announce) over a store
 * (vm-store.ts), the room VMs hold (capacity.ts), deleted VMs (tombstones.ts) and
 * Idempotency-Keys (idempotency-keys.ts). Every method does its work synchronously inside one
 * tick, so the guard it is given runs atomically with the change: that is what makes racing
 * actions safe.
 */
export class MemoryVmRepository implements VmRepository, FloatingIpTarget {
  readonly pollIntervalMs: number;
  /** The networks VMs are plugged into and the floating IPs pointing at them (networks.ts). */
  readonly networking: MemoryNetworks;
  private readonly store: VmStore;
  private readonly capacity: Capacity;
  private readonly tombstones: Tombstones<StoredVm>;
  private readonly keys: IdempotencyKeys;
  private readonly actions = new ActionLog();
  private readonly listeners: SettledListener[] = [];

  constructor(
    private readonly limits: MemoryLimits,
    private readonly now: () => number = Date.now,
    groupName?: (id: string) => string,
    /** The volumes' side: data disks, a VM's `volumes`, and what a VM's delete does to them. */
    private readonly disks: VmDisks = noDisks,
  ) {
    this.store = new VmStore(now, groupName, (vmId) => disks.of(vmId));
    this.networking = new MemoryNetworks(limits.ipCidr, limits.floatingCidr ?? DEFAULT_FLOATING_CIDR, now);
    this.networking.connect(this);
    disks.onChange((vmId) => {
      const stored = this.store.get(vmId);
      if (stored) this.store.touch(stored);
    });
    this.capacity = new Capacity(limits);
    this.tombstones = new Tombstones<StoredVm>(limits.deletedRetentionMs, limits.maxTombstones, (vm) => {
      this.store.remove(vm);
      this.actions.forget(vm.id);
    });
    this.keys = new IdempotencyKeys(limits.idempotencyTtlMs, limits.maxIdempotencyKeys);
    this.pollIntervalMs = Math.max(5, Math.min(50, Math.floor(limits.actionDelayMs / 4)));
  }

  onSettled(listener: SettledListener): void {
    this.listeners.push(listener);
  }

  async create(scope: Scope, input: CreateVmInput): Promise<VmRecord> {
    this.expire();
    this.keys.expire(this.now());
    const networks = input.networks ? input.networks.map((n) => this.networking.entryFor(scope, n.id)) : this.networking.defaultNetworks;
    const dataDisks = input.dataDisks ?? [];
    this.disks.check(scope.tenant, dataDisks);
    this.capacity.claim(scope.tenant, input.flavor);
    const stored = this.store.make(scope.tenant, input.name, input.flavor, input.image, networks, (input.securityGroups ?? []).map((g) => g.id));
    // Placement is decided now, so that concurrent creates cannot overbook the host; a delayed
    // create only reveals the outcome when it settles, as Nova does. Data disks are made only for
    // a VM that was placed, so a failed create leaves no volume behind.
    const outcome = this.disks.fit(dataDisks) ? this.capacity.place(stored, input.flavor, stored.createdAt) : { fault: noRoomForDisks(dataDisks, stored.createdAt) };
    if (!outcome.fault && dataDisks.length > 0) this.disks.make(scope.tenant, stored, dataDisks);
    this.actions.begin(stored.id, 'create', scope, stored.createdAt);
    if (input.idempotency) this.keys.remember(tenantKey(scope, input.idempotency.key), stored.id, input.idempotency.fingerprint, this.now());
    const settled: VmStatus = outcome.fault ? 'ERROR' : input.start ? 'RUNNING' : 'STOPPED';
    if (this.limits.actionDelayMs > 0) {
      stored.task = 'creating';
      this.store.add(stored);
      this.schedule(stored, 'creating', settled, input.flavor, outcome.fault);
    } else {
      stored.status = settled;
      stored.fault = outcome.fault;
      this.store.add(stored);
      this.actions.finish(stored.id, outcome.fault ? 'error' : 'success', stored.createdAt);
      this.announce(stored, 'STOPPED', 'creating');
    }
    return this.store.toRecord(stored);
  }

  async get(scope: Scope, id: string): Promise<VmRecord | undefined> {
    this.expire();
    const stored = this.visible(scope, id);
    return stored ? this.store.toRecord(stored, true) : undefined;
  }

  async list(scope: Scope, query: ListVmsQuery): Promise<VmPage> {
    this.expire();
    return this.store.page(query, scope.role === 'admin' ? query.tenant : scope.tenant);
  }

  async apply(scope: Scope, id: string, command: VmCommand, guard: CommandGuard): Promise<VmRecord> {
    this.expire();
    const stored = this.visible(scope, id);
    if (!stored) throw new ApiError('VM_NOT_FOUND', `No VM with id ${id}`);
    const current = this.store.toRecord(stored);
    guard(current);
    const transition = assertAllowed(current, command);
    const at = new Date(this.now()).toISOString();
    if (command.action === 'delete') {
      // A delete of a VM already deleting changes nothing, and is no new action.
      if (stored.task !== 'deleting') this.actions.begin(id, 'delete', scope, at);
      return this.delete(stored);
    }

    let flavor = stored.flavor;
    if (command.action === 'resize') {
      flavor = command.flavor;
      this.capacity.resize(stored, flavor);
    }
    this.actions.begin(id, command.action, scope, at);
    this.start(stored, transition.task, transition.next, flavor);
    return this.store.toRecord(stored);
  }

  async findByIdempotencyKey(scope: Scope, key: string): Promise<{ record: VmRecord; fingerprint: string } | undefined> {
    this.expire();
    this.keys.expire(this.now());
    const entry = this.keys.find(tenantKey(scope, key));
    const stored = entry && this.store.get(entry.resourceId);
    return entry && stored ? { record: this.store.toRecord(stored), fingerprint: entry.fingerprint } : undefined;
  }

  async listActions(scope: Scope, id: string): Promise<VmActionEntry[] | undefined> {
    this.expire();
    const stored = this.visible(scope, id);
    return stored && this.actions.list(stored.id);
  }

  async quotaUsage(scope: Scope): Promise<QuotaUsage> {
    return this.capacity.quotaOf(scope.tenant);
  }

  async tenantOwnsVms(tenant: string): Promise<boolean> {
    this.expire();
    return this.store.hasTenant(tenant);
  }

  async countByStatus(): Promise<Record<VmStatus, number>> {
    this.expire();
    return this.store.countByStatus();
  }

  /** The ids of a live VM's security groups; undefined for a VM the scope does not see, or a deleted one. */
  securityGroupsOf(scope: Scope, id: string): string[] | undefined {
    const stored = this.visible(scope, id);
    return stored && stored.status !== 'DELETED' ? [...stored.securityGroups] : undefined;
  }

  /** Replaces a VM's security groups (a new version of the VM). */
  setSecurityGroups(id: string, groups: string[]): void {
    const stored = this.store.get(id);
    if (!stored) return;
    stored.securityGroups = groups;
    this.store.touch(stored);
  }

  /** Whether a VM not deleted uses the group. A scan: deleting a group is rare next to reading VMs. */
  usesSecurityGroup(groupId: string): boolean {
    for (const stored of this.store.values()) if (stored.status !== 'DELETED' && stored.securityGroups.includes(groupId)) return true;
    return false;
  }

  /** A group was renamed: the VMs showing its name get a new version. */
  securityGroupRenamed(groupId: string): void {
    for (const stored of this.store.values()) if (stored.securityGroups.includes(groupId)) this.store.touch(stored);
  }

  assertAssociable(scope: Scope, vmId: string): void {
    const stored = this.visible(scope, vmId);
    if (!stored || stored.status === 'DELETED') throw new ApiError('VM_NOT_FOUND', `No VM with id ${vmId}`);
    if (stored.ip === null) throw new ApiError('VM_UNREACHABLE', `The VM ${vmId} has no fixed address (it never got a host), so no floating IP can point at it`);
  }

  showFloatingIp(vmId: string, address: string | null): void {
    const stored = this.store.get(vmId);
    if (!stored) return;
    stored.floatingIp = address;
    this.store.touch(stored);
  }

  close(): void {
    for (const stored of this.store.values()) {
      if (stored.timer) clearTimeout(stored.timer);
    }
  }

  private delete(stored: StoredVm): VmRecord {
    if (stored.task === 'deleting') return this.store.toRecord(stored);
    // A VM that never got a host has nothing to tear down: it goes at once, with no task.
    if (this.limits.actionDelayMs > 0 && stored.placed) {
      this.start(stored, 'deleting', 'DELETED', stored.flavor);
    } else {
      if (stored.timer) clearTimeout(stored.timer);
      this.settle(stored, 'deleting', 'DELETED', stored.flavor, null);
    }
    return this.store.toRecord(stored);
  }

  /** Begins a task, or finishes it at once when there is no delay. */
  private start(stored: StoredVm, task: VmTask, next: VmStatus, flavor: Flavor): void {
    if (stored.timer) clearTimeout(stored.timer);
    if (this.limits.actionDelayMs === 0) {
      this.settle(stored, task, next, flavor, null);
      return;
    }
    stored.task = task;
    this.store.touch(stored);
    this.schedule(stored, task, next, flavor, null);
  }

  private schedule(stored: StoredVm, task: VmTask, next: VmStatus, flavor: Flavor, fault: VmFault | null): void {
    const timer = setTimeout(() => this.settle(stored, task, next, flavor, fault), this.limits.actionDelayMs);
    timer.unref();
    stored.timer = timer;
  }

  private settle(stored: StoredVm, task: VmTask, next: VmStatus, flavor: Flavor, fault: VmFault | null): void {
    const previous = stored.status;
    stored.timer = null;
    stored.task = null;
    stored.flavor = flavor;
    stored.fault = next === 'ERROR' ? (fault ?? stored.fault) : null;
    this.store.setStatus(stored, next);
    this.actions.finish(stored.id, next === 'ERROR' ? 'error' : 'success', new Date(this.now()).toISOString());
    if (next === 'DELETED') {
      this.networking.vmGone(stored.id);
      this.capacity.release(stored);
      this.tombstones.add(stored, this.now());
      this.disks.vmDeleted(stored.id);
    }
    this.store.touch(stored);
    this.announce(stored, previous, task);
  }

  private announce(stored: StoredVm, previous: VmStatus, task: VmTask): void {
    if (this.listeners.length === 0) return;
    const vm = this.store.toVm(stored);
    for (const listener of this.listeners) listener({ vm, previous, task });
  }

  /** The VM, if the scope may see it: another tenant's is not there, as an unknown id is not. */
  private visible(scope: Scope, id: string): StoredVm | undefined {
    const stored = this.store.get(id);
    return stored && scopeSees(scope, stored.tenant) ? stored : undefined;
  }

  private expire(): void {
    this.tombstones.expire(this.now());
  }
}

function noRoomForDisks(disks: readonly DataDisk[], at: string): VmFault {
  const gigabytes = disks.reduce((sum, d) => sum + d.size_gb, 0);
  return { code: 'STORAGE_FULL', message: `The storage has no room for the VM's data disks (${gigabytes} GB)`, at };
}

/** Idempotency-Keys are per tenant: two tenants may use the same key for different VMs. */
function tenantKey(scope: Scope, key: string): string {
  return `${scope.tenant}\u0000${key}`;
}
