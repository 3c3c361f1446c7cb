import { v4 as uuidv4 } from 'uuid';
import { ApiError } from '../../domain/errors.js';
import { assertAllowed } from '../../domain/transitions.js';
import { vmStatuses, type Flavor, type Image, type Vm, type VmCommand, type VmFault, type VmStatus, type VmTask } from '../../domain/vm.js';
import type {
  CommandGuard,
  CreateVmInput,
  ListVmsQuery,
  VmPage,
  VmRecord,
  VmRepository,
  SettledListener,
} from '../../repository/vm-repository.js';
import { IpPool, formatIpv4 } from './ip-pool.js';
import { SeqIndex, mergeBySeq } from './seq-index.js';

export interface MemoryLimits {
  /** 0: every call settles before it answers; otherwise tasks settle after this delay. */
  actionDelayMs: number;
  capacityVcpus: number;
  capacityRamMb: number;
  /** -1 means unlimited. */
  quotaInstances: number;
  quotaVcpus: number;
  quotaRamMb: number;
  ipCidr: string;
  deletedRetentionMs: number;
  idempotencyTtlMs: number;
}

/** Kept compact on purpose (numbers, shared flavor/image objects): 100k of these must fit in ~100 MB. */
interface StoredVm {
  readonly seq: number;
  readonly id: string;
  readonly name: string;
  readonly image: Image;
  /** Made once: every read shows it. */
  readonly createdAt: string;
  flavor: Flavor;
  /** The flavor whose vCPUs and RAM this VM holds: the new one from the moment a resize is accepted. */
  held: Flavor;
  status: VmStatus;
  task: VmTask | null;
  ip: number | null;
  fault: VmFault | null;
  updatedAt: number;
  /** updatedAt as the API shows it, formatted once per change rather than once per read. */
  updatedIso: string;
  version: number;
  placed: boolean;
  /** Settles the running task. */
  timer: NodeJS.Timeout | null;
  /** The API view of this version, made on first read; dropped on every change. */
  view: Vm | null;
}

interface IdempotencyEntry {
  vmId: string;
  fingerprint: string;
  expiresAt: number;
}

const CURSOR_PREFIX = 'm1:';

/**
 * The Map-backed repository. Every method does its work synchronously inside one tick, so the
 * guard it is given runs atomically with the change: that is what makes racing actions safe.
 */
export class MemoryVmRepository implements VmRepository {
  readonly pollIntervalMs: number;
  private readonly byId = new Map<string, StoredVm>();
  private readonly byStatus = new Map<VmStatus, SeqIndex<StoredVm>>(vmStatuses.map((s) => [s, new SeqIndex<StoredVm>()]));
  /** Tombstones in the order they were made, which is also the order they expire in. */
  private readonly tombstones: { vm: StoredVm; expiresAt: number }[] = [];
  private tombstoneHead = 0;
  private readonly idempotency = new Map<string, IdempotencyEntry>();
  private readonly ipPool: IpPool;
  private readonly listeners: SettledListener[] = [];
  private nextSeq = 1;
  private usage = { instances: 0, vcpus: 0, ramMb: 0 };
  private hostUsage = { vcpus: 0, ramMb: 0 };

  constructor(
    private readonly limits: MemoryLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.ipPool = new IpPool(limits.ipCidr);
    this.pollIntervalMs = Math.max(5, Math.min(50, Math.floor(limits.actionDelayMs / 4)));
  }

  onSettled(listener: SettledListener): void {
    this.listeners.push(listener);
  }

  async create(input: CreateVmInput): Promise<VmRecord> {
    this.expire();
    this.expireKeys();
    this.assertQuota(1, input.flavor.vcpus, input.flavor.ram_mb);
    const now = this.now();
    const iso = new Date(now).toISOString();
    const stored: StoredVm = {
      seq: this.nextSeq++,
      id: uuidv4(),
      name: input.name,
      image: input.image,
      createdAt: iso,
      flavor: input.flavor,
      held: input.flavor,
      status: 'STOPPED',
      task: null,
      ip: null,
      fault: null,
      updatedAt: now,
      updatedIso: iso,
      version: 1,
      placed: false,
      timer: null,
      view: null,
    };
    this.usage.instances += 1;
    this.usage.vcpus += input.flavor.vcpus;
    this.usage.ramMb += input.flavor.ram_mb;
    // Placement is decided now, so that concurrent creates cannot overbook the host; a delayed
    // create only reveals the outcome when it settles, as Nova does.
    const outcome = this.place(stored, input.flavor);
    this.byId.set(stored.id, stored);
    if (input.idempotency) {
      // Re-inserted, not overwritten, so the Map's order stays the keys' expiry order.
      this.idempotency.delete(input.idempotency.key);
      this.idempotency.set(input.idempotency.key, {
        vmId: stored.id,
        fingerprint: input.idempotency.fingerprint,
        expiresAt: now + this.limits.idempotencyTtlMs,
      });
    }
    const settled: VmStatus = outcome.fault ? 'ERROR' : input.start ? 'RUNNING' : 'STOPPED';
    if (this.limits.actionDelayMs > 0) {
      stored.task = 'creating';
      this.index(stored);
      this.schedule(stored, 'creating', settled, input.flavor, outcome.fault);
    } else {
      stored.status = settled;
      stored.fault = outcome.fault;
      this.index(stored);
      this.announce(stored, 'STOPPED', 'creating');
    }
    return this.toRecord(stored);
  }

  async get(id: string): Promise<VmRecord | undefined> {
    this.expire();
    const stored = this.byId.get(id);
    return stored ? this.toRecord(stored, true) : undefined;
  }

  async list(query: ListVmsQuery): Promise<VmPage> {
    this.expire();
    const after = decodeCursor(query.cursor);
    const streams = query.statuses.map((s) => (this.byStatus.get(s) as SeqIndex<StoredVm>).from(after));
    const items: VmRecord[] = [];
    let hasMore = false;
    for (const stored of mergeBySeq(streams)) {
      if (query.name && !matchesName(stored.name, query.name)) continue;
      if (items.length === query.limit) {
        hasMore = true;
        break;
      }
      items.push(this.toRecord(stored));
    }
    const last = this.byId.get(items[items.length - 1]?.vm.id ?? '');
    return { items, nextCursor: hasMore && last ? encodeCursor(last.seq) : null };
  }

  async apply(id: string, command: VmCommand, guard: CommandGuard): Promise<VmRecord> {
    this.expire();
    const stored = this.byId.get(id);
    if (!stored) throw new ApiError('VM_NOT_FOUND', `No VM with id ${id}`);
    const current = this.toRecord(stored);
    guard(current);
    const transition = assertAllowed(current, command);
    if (command.action === 'delete') return this.delete(stored);

    let flavor = stored.flavor;
    if (command.action === 'resize') {
      flavor = command.flavor;
      this.assertResizeFits(stored, flavor);
      // Held now, not when the resize settles, so that concurrent resizes cannot overbook.
      this.moveUsage(stored, flavor);
    }
    this.start(stored, transition.task, transition.next, flavor);
    return this.toRecord(stored);
  }

  async findByIdempotencyKey(key: string): Promise<{ record: VmRecord; fingerprint: string } | undefined> {
    this.expire();
    this.expireKeys();
    const entry = this.idempotency.get(key);
    const stored = entry && this.byId.get(entry.vmId);
    return entry && stored ? { record: this.toRecord(stored), fingerprint: entry.fingerprint } : undefined;
  }

  async countByStatus(): Promise<Record<VmStatus, number>> {
    this.expire();
    return Object.fromEntries(vmStatuses.map((s) => [s, (this.byStatus.get(s) as SeqIndex<StoredVm>).size])) as Record<
      VmStatus,
      number
    >;
  }

  close(): void {
    for (const stored of this.byId.values()) {
      if (stored.timer) clearTimeout(stored.timer);
    }
  }

  private delete(stored: StoredVm): VmRecord {
    if (stored.task === 'deleting') return this.toRecord(stored);
    // A VM that never got a host has nothing to tear down: it goes at once, with no task.
    if (this.limits.actionDelayMs > 0 && stored.placed) {
      this.start(stored, 'deleting', 'DELETED', stored.flavor);
    } else {
      if (stored.timer) clearTimeout(stored.timer);
      this.settle(stored, 'deleting', 'DELETED', stored.flavor, null);
    }
    return this.toRecord(stored);
  }

  /** Begins a task, or finishes it at once when there is no delay. */
  private start(stored: StoredVm, task: VmTask, next: VmStatus, flavor: Flavor): void {
    if (stored.timer) clearTimeout(stored.timer);
    if (this.limits.actionDelayMs === 0) {
      this.settle(stored, task, next, flavor, null);
      return;
    }
    stored.task = task;
    this.touch(stored);
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
    this.setStatus(stored, next);
    if (next === 'DELETED') this.release(stored);
    this.touch(stored);
    this.announce(stored, previous, task);
  }

  private announce(stored: StoredVm, previous: VmStatus, task: VmTask): void {
    if (this.listeners.length === 0) return;
    const vm = this.toVm(stored);
    for (const listener of this.listeners) listener({ vm, previous, task });
  }

  private setStatus(stored: StoredVm, next: VmStatus): void {
    if (stored.status === next) return;
    (this.byStatus.get(stored.status) as SeqIndex<StoredVm>).remove(stored);
    stored.status = next;
    this.index(stored);
  }

  private index(stored: StoredVm): void {
    (this.byStatus.get(stored.status) as SeqIndex<StoredVm>).insert(stored);
  }

  private touch(stored: StoredVm): void {
    stored.view = null;
    stored.version += 1;
    // Two changes within one millisecond must still move updated_at forward.
    stored.updatedAt = Math.max(this.now(), stored.updatedAt + 1);
    stored.updatedIso = new Date(stored.updatedAt).toISOString();
  }

  /** Takes room on the host and an address; a VM that gets neither fails with a fault. */
  private place(stored: StoredVm, flavor: Flavor): { fault: VmFault | null } {
    const at = new Date(this.now()).toISOString();
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

  private release(stored: StoredVm): void {
    if (stored.ip !== null) this.ipPool.release(stored.ip);
    stored.ip = null;
    if (stored.placed) {
      this.hostUsage.vcpus -= stored.held.vcpus;
      this.hostUsage.ramMb -= stored.held.ram_mb;
    }
    this.usage.instances -= 1;
    this.usage.vcpus -= stored.held.vcpus;
    this.usage.ramMb -= stored.held.ram_mb;
    this.tombstones.push({ vm: stored, expiresAt: this.now() + this.limits.deletedRetentionMs });
  }

  private moveUsage(stored: StoredVm, to: Flavor): void {
    const from = stored.held;
    this.usage.vcpus += to.vcpus - from.vcpus;
    this.usage.ramMb += to.ram_mb - from.ram_mb;
    if (stored.placed) {
      this.hostUsage.vcpus += to.vcpus - from.vcpus;
      this.hostUsage.ramMb += to.ram_mb - from.ram_mb;
    }
    stored.held = to;
  }

  private assertResizeFits(stored: StoredVm, flavor: Flavor): void {
    const vcpus = flavor.vcpus - stored.held.vcpus;
    const ramMb = flavor.ram_mb - stored.held.ram_mb;
    this.assertQuota(0, vcpus, ramMb);
    if (!this.hostFits(vcpus, ramMb)) {
      throw new ApiError(
        'INSUFFICIENT_CAPACITY',
        `No host has room to resize ${stored.name} to ${flavor.name} (${flavor.vcpus} vCPUs, ${flavor.ram_mb} MB RAM)`,
      );
    }
  }

  private hostFits(vcpus: number, ramMb: number): boolean {
    return (
      this.hostUsage.vcpus + vcpus <= this.limits.capacityVcpus &&
      this.hostUsage.ramMb + ramMb <= this.limits.capacityRamMb
    );
  }

  private assertQuota(instances: number, vcpus: number, ramMb: number): void {
    const checks: [string, number, number, number][] = [
      ['instances', instances, this.usage.instances, this.limits.quotaInstances],
      ['vcpus', vcpus, this.usage.vcpus, this.limits.quotaVcpus],
      ['ram_mb', ramMb, this.usage.ramMb, this.limits.quotaRamMb],
    ];
    for (const [what, requested, used, limit] of checks) {
      if (limit >= 0 && requested > 0 && used + requested > limit) {
        throw new ApiError(
          'QUOTA_EXCEEDED',
          `Quota exceeded for ${what}: requested ${requested}, already used ${used} of ${limit}`,
        );
      }
    }
  }

  /** Forgets tombstones past their retention. */
  private expire(): void {
    const now = this.now();
    while (this.tombstoneHead < this.tombstones.length) {
      const head = this.tombstones[this.tombstoneHead] as { vm: StoredVm; expiresAt: number };
      if (head.expiresAt > now) break;
      this.byId.delete(head.vm.id);
      (this.byStatus.get('DELETED') as SeqIndex<StoredVm>).remove(head.vm);
      this.tombstoneHead += 1;
    }
    if (this.tombstoneHead > 1024 && this.tombstoneHead * 2 > this.tombstones.length) {
      this.tombstones.splice(0, this.tombstoneHead);
      this.tombstoneHead = 0;
    }
  }

  /** Forgets idempotency keys past their lifetime; run where keys are used, not on every read. */
  private expireKeys(): void {
    const now = this.now();
    // Map iteration is insertion order, which is expiry order: stop at the first live key.
    for (const [key, entry] of this.idempotency) {
      if (entry.expiresAt > now) break;
      this.idempotency.delete(key);
    }
  }

  /** `remember` keeps the view for the next reader of this version (polling reads one VM often). */
  private toRecord(stored: StoredVm, remember = false): VmRecord {
    return { vm: this.toVm(stored, remember), version: String(stored.version), placed: stored.placed };
  }

  private toVm(stored: StoredVm, remember = false): Vm {
    if (stored.view) return stored.view;
    const view: Vm = {
      id: stored.id,
      name: stored.name,
      flavor: stored.flavor.name,
      image: stored.image.name,
      status: stored.status,
      task: stored.task,
      ip_address: stored.ip === null ? null : formatIpv4(stored.ip),
      fault: stored.fault,
      created_at: stored.createdAt,
      updated_at: stored.updatedIso,
    };
    // Shared by every reader of this version: callers only serialize it, never change it.
    if (remember) stored.view = view;
    return view;
  }
}

function matchesName(name: string, filter: { value: string; prefix: boolean }): boolean {
  return filter.prefix ? name.startsWith(filter.value) : name === filter.value;
}

function encodeCursor(seq: number): string {
  return Buffer.from(`${CURSOR_PREFIX}${seq}`).toString('base64url');
}

function decodeCursor(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  const text = Buffer.from(cursor, 'base64url').toString();
  const seq = Number(text.slice(CURSOR_PREFIX.length));
  if (!text.startsWith(CURSOR_PREFIX) || !Number.isSafeInteger(seq) || seq < 1) {
    throw new ApiError('VALIDATION_ERROR', 'The cursor is not one this API returned', {
      errors: [{ path: 'cursor', message: 'not a cursor returned by this API' }],
    });
  }
  return seq;
}
