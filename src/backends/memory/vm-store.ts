import { v4 as uuidv4 } from 'uuid';
import { ApiError } from '../../domain/errors.js';
import { vmStatuses, type Flavor, type Image, type Vm, type VmFault, type VmStatus, type VmTask } from '../../domain/vm.js';
import type { ListVmsQuery, VmPage, VmRecord } from '../../repository/vm-repository.js';
import { formatIpv4 } from './ip-pool.js';
import type { NetworkEntry } from './networks.js';
import { SeqIndex, mergeBySeq } from './seq-index.js';

/** Kept compact on purpose (numbers, shared flavor/image objects): 100k of these must fit in ~100 MB. */
export interface StoredVm {
  readonly seq: number;
  readonly id: string;
  readonly name: string;
  readonly tenant: string;
  readonly image: Image;
  /** Made once: every read shows it. */
  readonly createdAt: string;
  flavor: Flavor;
  /** The flavor whose vCPUs and RAM this VM holds: the new one from the moment a resize is accepted. */
  held: Flavor;
  status: VmStatus;
  task: VmTask | null;
  /** The address on the first network; null until placed, and once deleted. */
  ip: number | null;
  /** What the VM is plugged into, in order; the default's array is shared by every VM that has it. */
  readonly networks: readonly NetworkEntry[];
  /** The addresses on the second network onwards; null for a VM on one network (most). */
  extraIps: number[] | null;
  floatingIp: string | null;
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
  /** Ids of its security groups, in the order attached. */
  securityGroups: string[];
}

const CURSOR_PREFIX = 'm1:';

type StatusIndexes = Map<VmStatus, SeqIndex<StoredVm>>;
const statusIndexes = (): StatusIndexes => new Map(vmStatuses.map((s) => [s, new SeqIndex<StoredVm>()]));

/**
 * Every VM by id, and by status in creation order for cursor paging, once for all tenants and once
 * per tenant (so one tenant's page costs the same however many other tenants' VMs there are); and
 * the API view of each. Knows nothing of tasks, capacity or expiry: the repository decides, the
 * store keeps.
 */
export class VmStore {
  private readonly byId = new Map<string, StoredVm>();
  private readonly byStatus = statusIndexes();
  private readonly byTenant = new Map<string, StatusIndexes>();
  private nextSeq = 1;

  constructor(
    private readonly now: () => number,
    /** A security group's name now (groups are renamed apart from the VMs that use them). */
    private readonly groupName: (id: string) => string = (id) => id,
  ) {}

  /** A new VM, STOPPED with no task, not yet stored (placement comes first). */
  make(tenant: string, name: string, flavor: Flavor, image: Image, networks: readonly NetworkEntry[], securityGroups: string[] = []): StoredVm {
    const now = this.now();
    const iso = new Date(now).toISOString();
    return {
      seq: this.nextSeq++,
      id: uuidv4(),
      name,
      tenant,
      image,
      createdAt: iso,
      flavor,
      held: flavor,
      status: 'STOPPED',
      task: null,
      ip: null,
      networks,
      extraIps: null,
      floatingIp: null,
      fault: null,
      updatedAt: now,
      updatedIso: iso,
      version: 1,
      placed: false,
      timer: null,
      view: null,
      securityGroups,
    };
  }

  add(stored: StoredVm): void {
    this.byId.set(stored.id, stored);
    this.statusIndex(stored.status).insert(stored);
    this.tenantIndex(stored.tenant, stored.status).insert(stored);
  }

  get(id: string): StoredVm | undefined {
    return this.byId.get(id);
  }

  /** Forgets a VM altogether (an expired tombstone). */
  remove(stored: StoredVm): void {
    this.byId.delete(stored.id);
    this.statusIndex(stored.status).remove(stored);
    this.tenantIndex(stored.tenant, stored.status).remove(stored);
    const indexes = this.byTenant.get(stored.tenant);
    if (indexes && [...indexes.values()].every((index) => index.size === 0)) this.byTenant.delete(stored.tenant);
  }

  /** Whether a tenant has any VM here, tombstones included. */
  hasTenant(tenant: string): boolean {
    return this.byTenant.has(tenant);
  }

  values(): IterableIterator<StoredVm> {
    return this.byId.values();
  }

  setStatus(stored: StoredVm, next: VmStatus): void {
    if (stored.status === next) return;
    this.statusIndex(stored.status).remove(stored);
    this.tenantIndex(stored.tenant, stored.status).remove(stored);
    stored.status = next;
    this.statusIndex(next).insert(stored);
    this.tenantIndex(stored.tenant, next).insert(stored);
  }

  /** Records a change: a new version and updated_at, and the cached view dropped. */
  touch(stored: StoredVm): void {
    stored.view = null;
    stored.version += 1;
    // Two changes within one millisecond must still move updated_at forward.
    stored.updatedAt = Math.max(this.now(), stored.updatedAt + 1);
    stored.updatedIso = new Date(stored.updatedAt).toISOString();
  }

  /** A page of every tenant's VMs, or of one tenant's. */
  page(query: ListVmsQuery, tenant: string | undefined): VmPage {
    const after = decodeCursor(query.cursor);
    if (tenant !== undefined && !this.byTenant.has(tenant)) return { items: [], nextCursor: null };
    const streams = query.statuses.map((s) => (tenant === undefined ? this.statusIndex(s) : this.tenantIndex(tenant, s)).from(after));
    const items: VmRecord[] = [];
    let hasMore = false;
    let last: StoredVm | undefined;
    for (const stored of mergeBySeq(streams)) {
      if (query.name && !matchesName(stored.name, query.name)) continue;
      if (items.length === query.limit) {
        hasMore = true;
        break;
      }
      items.push(this.toRecord(stored));
      last = stored;
    }
    return { items, nextCursor: hasMore && last ? encodeCursor(last.seq) : null };
  }

  countByStatus(): Record<VmStatus, number> {
    return Object.fromEntries(vmStatuses.map((s) => [s, this.statusIndex(s).size])) as Record<VmStatus, number>;
  }

  /** `remember` keeps the view for the next reader of this version (polling reads one VM often). */
  toRecord(stored: StoredVm, remember = false): VmRecord {
    return { vm: this.toVm(stored, remember), version: String(stored.version), placed: stored.placed };
  }

  toVm(stored: StoredVm, remember = false): Vm {
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
      tenant: stored.tenant,
      security_groups: stored.securityGroups.map(this.groupName),
      networks: stored.networks.map((entry, i) => ({
        id: entry.network.id,
        name: entry.network.name,
        ip_address: addressOf(stored, i),
      })),
      floating_ip: stored.floatingIp,
    };
    // Shared by every reader of this version: callers only serialize it, never change it.
    if (remember) stored.view = view;
    return view;
  }

  private statusIndex(status: VmStatus): SeqIndex<StoredVm> {
    return this.byStatus.get(status) as SeqIndex<StoredVm>;
  }

  private tenantIndex(tenant: string, status: VmStatus): SeqIndex<StoredVm> {
    let indexes = this.byTenant.get(tenant);
    if (!indexes) {
      indexes = statusIndexes();
      this.byTenant.set(tenant, indexes);
    }
    return indexes.get(status) as SeqIndex<StoredVm>;
  }
}

function addressOf(stored: StoredVm, index: number): string | null {
  const ip = index === 0 ? stored.ip : (stored.extraIps?.[index - 1] ?? null);
  return ip === null ? null : formatIpv4(ip);
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
