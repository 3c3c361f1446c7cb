import { v4 as uuidv4 } from 'uuid';
import { ApiError } from '../../domain/errors.js';
import { scopeSees, type Scope } from '../../domain/tenancy.js';
import type { VmFault } from '../../domain/vm.js';
import {
  assertVolumeAllowed,
  volumeStatuses,
  type DataDisk,
  type VmVolume,
  type Volume,
  type VolumeFault,
  type VolumeStatus,
  type VolumeTask,
} from '../../domain/volume.js';
import type {
  CreateVolumeInput,
  ListVolumesQuery,
  VolumeChanges,
  VolumeCommand,
  VolumeGuard,
  VolumePage,
  VolumeQuotaUsage,
  VolumeRecord,
  VolumeRepository,
  VolumeSettledListener,
} from '../../repository/volume-repository.js';
import { IdempotencyKeys } from './idempotency-keys.js';
import { StatusPages } from './status-pages.js';
import { Storage, type StorageLimits } from './storage.js';
import { Tombstones } from './tombstones.js';

export interface MemoryVolumeLimits extends StorageLimits {
  actionDelayMs: number;
  deletedRetentionMs: number;
  maxTombstones: number;
  idempotencyTtlMs: number;
  maxIdempotencyKeys: number;
}

/** Kept compact (numbers, one object per volume): the bench holds 100k of these under 1 KiB each. */
interface StoredVolume {
  readonly seq: number;
  readonly id: string;
  readonly tenant: string;
  readonly createdAt: string;
  name: string;
  description: string;
  sizeGb: number;
  status: VolumeStatus;
  task: VolumeTask | null;
  /** The VM it is attached to (from the moment an attach is accepted until a detach settles). */
  vmId: string | null;
  device: string | null;
  deleteOnTermination: boolean;
  /** Gigabytes it holds in the pool (0 for a volume that never got room). */
  heldGb: number;
  fault: VolumeFault | null;
  updatedIso: string;
  updatedAt: number;
  version: number;
  timer: NodeJS.Timeout | null;
}

/**
 * What the memory VM repository needs of volumes: data disks made with a VM, the `volumes` a VM
 * shows, and what happens to them when the VM goes (docs/contract.md section 10).
 */
export interface VmDisks {
  /** Throws QUOTA_EXCEEDED if the tenant cannot hold these disks; changes nothing. */
  check(tenant: string, disks: readonly DataDisk[]): void;
  /** Whether the storage has room for them all. */
  fit(disks: readonly DataDisk[]): boolean;
  /** Makes the disks, settled and attached to the VM (call `check` and `fit` first, in the same tick). */
  make(tenant: string, vm: { id: string; name: string }, disks: readonly DataDisk[]): void;
  /** The volumes attached to a VM, by device. */
  of(vmId: string): VmVolume[];
  /** The VM is deleted: its delete_on_termination disks go, the others are detached (AVAILABLE). */
  vmDeleted(vmId: string): void;
  /** Tells `listener` whenever the volumes of a VM change (so that its ETag moves). */
  onChange(listener: (vmId: string) => void): void;
}

/** A VM without volumes: for a memory VM repository built alone (tests). */
export const noDisks: VmDisks = {
  check: () => undefined,
  fit: () => true,
  make: () => undefined,
  of: () => [],
  vmDeleted: () => undefined,
  onChange: () => undefined,
};

const DEVICE_LETTERS = 'bcdefghijklmnopqrstuvwxyz';

/**
 * The Map-backed volume repository: a pool of MOCK_STORAGE_GB shared by every tenant, Cinder's
 * default quotas per tenant, and the attachments of volumes to VMs. Like the VM repository, every
 * method does its work synchronously in one tick, so a guard runs atomically with the change.
 */
export class MemoryVolumeRepository implements VolumeRepository, VmDisks {
  readonly pollIntervalMs: number;
  private readonly byId = new Map<string, StoredVolume>();
  private readonly pages = new StatusPages<VolumeStatus, StoredVolume>(volumeStatuses, 'v1:');
  /** Per VM, its attached volumes. */
  private readonly byVm = new Map<string, Set<StoredVolume>>();
  private readonly storage: Storage;
  private readonly tombstones: Tombstones<StoredVolume>;
  private readonly keys: IdempotencyKeys;
  private readonly listeners: VolumeSettledListener[] = [];
  private readonly vmListeners: ((vmId: string) => void)[] = [];
  private nextSeq = 1;

  constructor(
    private readonly limits: MemoryVolumeLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.storage = new Storage(limits);
    this.tombstones = new Tombstones<StoredVolume>(limits.deletedRetentionMs, limits.maxTombstones, (stored) => {
      this.byId.delete(stored.id);
      this.pages.remove(stored);
    });
    this.keys = new IdempotencyKeys(limits.idempotencyTtlMs, limits.maxIdempotencyKeys);
    this.pollIntervalMs = Math.max(5, Math.min(50, Math.floor(limits.actionDelayMs / 4)));
  }

  onSettled(listener: VolumeSettledListener): void {
    this.listeners.push(listener);
  }

  async create(scope: Scope, input: CreateVolumeInput): Promise<VolumeRecord> {
    this.expire();
    this.keys.expire(this.now());
    this.storage.claim(scope.tenant, 1, input.sizeGb);
    const stored = this.newVolume(scope.tenant, input.name, input.description, input.sizeGb);
    if (input.idempotency) this.keys.remember(tenantKey(scope, input.idempotency.key), stored.id, input.idempotency.fingerprint, this.now());
    // Room is decided now, so that concurrent creates cannot overbook the pool; a delayed create
    // reveals the outcome only when it settles, as Cinder's scheduler does.
    const fault = this.storage.take(input.sizeGb) ? null : this.storageFull(input.sizeGb);
    if (!fault) stored.heldGb = input.sizeGb;
    this.add(stored);
    this.start(stored, 'creating', fault ? 'ERROR' : 'AVAILABLE', () => {
      stored.fault = fault;
    });
    return this.toRecord(stored);
  }

  async get(scope: Scope, id: string): Promise<VolumeRecord | undefined> {
    this.expire();
    const stored = this.visible(scope, id);
    return stored && this.toRecord(stored);
  }

  async list(scope: Scope, query: ListVolumesQuery): Promise<VolumePage> {
    this.expire();
    return this.pages.page(query, scope.role === 'admin' ? query.tenant : scope.tenant, (stored) => this.toRecord(stored));
  }

  async update(scope: Scope, id: string, changes: VolumeChanges, guard: VolumeGuard): Promise<VolumeRecord> {
    const stored = this.found(scope, id);
    guard(this.toRecord(stored));
    if (stored.status === 'DELETED') {
      throw new ApiError('INVALID_STATE_TRANSITION', 'A deleted volume cannot be changed', { current_status: 'DELETED', allowed_actions: [] });
    }
    if (changes.name !== undefined) stored.name = changes.name;
    if (changes.description !== undefined) stored.description = changes.description;
    this.touch(stored);
    return this.toRecord(stored);
  }

  async apply(scope: Scope, id: string, command: VolumeCommand, guard: VolumeGuard): Promise<VolumeRecord> {
    const stored = this.found(scope, id);
    guard(this.toRecord(stored));
    if (command.action === 'delete' && stored.task === 'deleting') return this.toRecord(stored);
    if (command.action === 'detach' && stored.vmId !== command.vmId) {
      throw new ApiError('VOLUME_NOT_FOUND', `Volume ${id} is not attached to VM ${command.vmId}`);
    }
    const transition = assertVolumeAllowed(this.toVolume(stored), command.action);
    switch (command.action) {
      case 'extend':
        return this.extend(stored, command.sizeGb);
      case 'attach':
        this.attach(stored, command.vmId, command.device);
        break;
      case 'detach':
      case 'delete':
        break;
    }
    this.start(stored, transition.task, transition.next);
    return this.toRecord(stored);
  }

  async findByIdempotencyKey(scope: Scope, key: string): Promise<{ record: VolumeRecord; fingerprint: string } | undefined> {
    this.expire();
    this.keys.expire(this.now());
    const entry = this.keys.find(tenantKey(scope, key));
    const stored = entry && this.byId.get(entry.resourceId);
    return entry && stored ? { record: this.toRecord(stored), fingerprint: entry.fingerprint } : undefined;
  }

  async quotaUsage(scope: Scope): Promise<VolumeQuotaUsage> {
    return this.storage.quotaOf(scope.tenant);
  }

  async tenantOwnsVolumes(tenant: string): Promise<boolean> {
    this.expire();
    return this.pages.hasTenant(tenant);
  }

  // --- VmDisks: what the memory VM repository asks of volumes ---

  check(tenant: string, disks: readonly DataDisk[]): void {
    this.storage.check(tenant, disks.length, totalGb(disks));
  }

  fit(disks: readonly DataDisk[]): boolean {
    return totalGb(disks) <= this.storage.freeGb;
  }

  make(tenant: string, vm: { id: string; name: string }, disks: readonly DataDisk[]): void {
    disks.forEach((disk, i) => {
      this.storage.claim(tenant, 1, disk.size_gb);
      this.storage.take(disk.size_gb);
      const stored = this.newDataDisk(tenant, vm, disk, i);
      this.add(stored);
      this.attach(stored, vm.id, null);
      this.pages.setStatus(stored, 'IN_USE');
    });
  }

  of(vmId: string): VmVolume[] {
    const attached = this.byVm.get(vmId);
    if (!attached) return [];
    return [...attached].map((v) => ({ id: v.id, device: v.device })).sort((a, b) => (a.device ?? '').localeCompare(b.device ?? ''));
  }

  vmDeleted(vmId: string): void {
    for (const stored of [...(this.byVm.get(vmId) ?? [])]) {
      if (stored.timer) clearTimeout(stored.timer);
      stored.task = null;
      if (stored.deleteOnTermination) {
        this.detach(stored);
        this.settle(stored, 'deleting', 'DELETED');
      } else {
        this.settle(stored, 'detaching', 'AVAILABLE');
      }
    }
  }

  onChange(listener: (vmId: string) => void): void {
    this.vmListeners.push(listener);
  }

  close(): void {
    for (const stored of this.byId.values()) {
      if (stored.timer) clearTimeout(stored.timer);
    }
  }

  private newVolume(tenant: string, name: string, description: string, sizeGb: number): StoredVolume {
    const now = this.now();
    const iso = new Date(now).toISOString();
    return {
      seq: this.nextSeq++,
      id: uuidv4(),
      tenant,
      createdAt: iso,
      name,
      description,
      sizeGb,
      status: 'AVAILABLE',
      task: null,
      vmId: null,
      device: null,
      deleteOnTermination: false,
      heldGb: 0,
      fault: null,
      updatedIso: iso,
      updatedAt: now,
      version: 1,
      timer: null,
    };
  }

  private newDataDisk(tenant: string, vm: { id: string; name: string }, disk: DataDisk, index: number): StoredVolume {
    const stored = this.newVolume(tenant, `${vm.name}-disk-${index + 1}`, `Data disk ${index + 1} of VM ${vm.id}`, disk.size_gb);
    stored.heldGb = disk.size_gb;
    stored.deleteOnTermination = disk.delete_on_termination;
    return stored;
  }

  private add(stored: StoredVolume): void {
    this.byId.set(stored.id, stored);
    this.pages.insert(stored);
  }

  private extend(stored: StoredVolume, sizeGb: number): VolumeRecord {
    if (sizeGb <= stored.sizeGb) {
      throw new ApiError('VALIDATION_ERROR', `A volume only grows: size_gb must be more than ${stored.sizeGb}`, {
        errors: [{ path: 'body.size_gb', message: `must be more than the volume's ${stored.sizeGb}` }],
      });
    }
    const more = sizeGb - stored.sizeGb;
    this.storage.claim(stored.tenant, 0, more);
    if (!this.storage.take(more)) {
      this.storage.unclaim(stored.tenant, 0, more);
      throw new ApiError('INSUFFICIENT_CAPACITY', `The storage has no room to extend volume ${stored.id} by ${more} GB`);
    }
    stored.heldGb += more;
    this.start(stored, 'extending', stored.status, () => {
      stored.sizeGb = sizeGb;
    });
    return this.toRecord(stored);
  }

  private attach(stored: StoredVolume, vmId: string, device: string | null): void {
    let attached = this.byVm.get(vmId);
    if (!attached) {
      attached = new Set();
      this.byVm.set(vmId, attached);
    }
    const taken = new Set([...attached].map((v) => v.device));
    if (device !== null && taken.has(device)) {
      throw new ApiError('VALIDATION_ERROR', `VM ${vmId} has a volume at ${device} already`, {
        errors: [{ path: 'body.device', message: 'taken on this VM' }],
      });
    }
    const letter = [...DEVICE_LETTERS].find((l) => !taken.has(`/dev/vd${l}`));
    if (device === null && letter === undefined) {
      throw new ApiError('RESOURCE_IN_USE', `VM ${vmId} has no free device left`);
    }
    stored.vmId = vmId;
    stored.device = device ?? `/dev/vd${letter}`;
    attached.add(stored);
    this.vmChanged(vmId);
  }

  private detach(stored: StoredVolume): void {
    const vmId = stored.vmId;
    if (vmId === null) return;
    const attached = this.byVm.get(vmId);
    attached?.delete(stored);
    if (attached?.size === 0) this.byVm.delete(vmId);
    stored.vmId = null;
    stored.device = null;
    stored.deleteOnTermination = false;
    this.vmChanged(vmId);
  }

  /** Begins a task that settles in `next` (after `finish` runs), or finishes it at once without a delay. */
  private start(stored: StoredVolume, task: VolumeTask, next: VolumeStatus, finish: () => void = () => undefined): void {
    if (this.limits.actionDelayMs === 0) {
      finish();
      this.settle(stored, task, next);
      return;
    }
    stored.task = task;
    this.touch(stored);
    const timer = setTimeout(() => {
      finish();
      this.settle(stored, task, next);
    }, this.limits.actionDelayMs);
    timer.unref();
    stored.timer = timer;
  }

  private settle(stored: StoredVolume, task: VolumeTask, next: VolumeStatus): void {
    const previous = task === 'creating' ? 'AVAILABLE' : stored.status;
    stored.timer = null;
    stored.task = null;
    if (next !== 'ERROR') stored.fault = null;
    if (task === 'detaching' || next === 'DELETED') this.detach(stored);
    this.pages.setStatus(stored, next);
    if (next === 'DELETED') {
      this.storage.free(stored.heldGb);
      this.storage.unclaim(stored.tenant, 1, stored.sizeGb);
      stored.heldGb = 0;
      this.tombstones.add(stored, this.now());
    }
    this.touch(stored);
    if (this.listeners.length === 0) return;
    const volume = this.toVolume(stored);
    for (const listener of this.listeners) listener({ volume, previous, task });
  }

  private touch(stored: StoredVolume): void {
    stored.version += 1;
    stored.updatedAt = Math.max(this.now(), stored.updatedAt + 1);
    stored.updatedIso = new Date(stored.updatedAt).toISOString();
  }

  private vmChanged(vmId: string): void {
    for (const listener of this.vmListeners) listener(vmId);
  }

  private storageFull(sizeGb: number): VmFault {
    return {
      code: 'STORAGE_FULL',
      message: `The storage has no room for ${sizeGb} GB (${this.storage.freeGb} GB free)`,
      at: new Date(this.now()).toISOString(),
    };
  }

  private found(scope: Scope, id: string): StoredVolume {
    this.expire();
    const stored = this.visible(scope, id);
    if (!stored) throw new ApiError('VOLUME_NOT_FOUND', `No volume with id ${id}`);
    return stored;
  }

  /** The volume, if the scope may see it: another tenant's is not there, as an unknown id is not. */
  private visible(scope: Scope, id: string): StoredVolume | undefined {
    const stored = this.byId.get(id);
    return stored && scopeSees(scope, stored.tenant) ? stored : undefined;
  }

  private toRecord(stored: StoredVolume): VolumeRecord {
    return { volume: this.toVolume(stored), version: String(stored.version) };
  }

  private toVolume(stored: StoredVolume): Volume {
    return {
      id: stored.id,
      name: stored.name,
      description: stored.description,
      size_gb: stored.sizeGb,
      status: stored.status,
      task: stored.task,
      attached_to: stored.vmId === null ? null : { vm_id: stored.vmId, device: stored.device },
      fault: stored.fault,
      tenant: stored.tenant,
      created_at: stored.createdAt,
      updated_at: stored.updatedIso,
    };
  }

  private expire(): void {
    this.tombstones.expire(this.now());
  }
}

function totalGb(disks: readonly DataDisk[]): number {
  return disks.reduce((sum, d) => sum + d.size_gb, 0);
}

/** Idempotency-Keys are per tenant. */
function tenantKey(scope: Scope, key: string): string {
  return `${scope.tenant}\u0000${key}`;
}
