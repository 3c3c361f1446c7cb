import { v4 as uuidv4 } from 'uuid';
import type { VmVolume } from '../../domain/volume.js';
import { vmStatuses, type Flavor, type Image, type Vm, type VmFault, type VmStatus, type VmTask } from '../../domain/vm.js';
import type { ListVmsQuery, VmPage, VmRecord } from '../../repository/vm-repository.js';
import { formatIpv4 } from './ip-pool.js';
import type { NetworkEntry } from './networks.js';
import { StatusPages } from './status-pages.js';

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

/**
 * Every VM by id, and by status in creation order for cursor paging, once for all tenants and once
 * per tenant (so one tenant's page costs the same however many other tenants' VMs there are); and
 * the API view of each. Knows nothing of tasks, capacity or expiry: the repository decides, the
 * store keeps.
 */
export class VmStore {
  private readonly byId = new Map<string, StoredVm>();
  private readonly pages = new StatusPages<VmStatus, StoredVm>(vmStatuses, 'm1:');
  private nextSeq = 1;

  constructor(
    private readonly now: () => number,
    /** A security group's name now (groups are renamed apart from the VMs that use them). */
    private readonly groupName: (id: string) => string = (id) => id,
    /** The volumes attached to a VM (the volume repository keeps them). */
    private readonly volumesOf: (vmId: string) => VmVolume[] = () => [],
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
    this.pages.insert(stored);
  }

  get(id: string): StoredVm | undefined {
    return this.byId.get(id);
  }

  /** Forgets a VM altogether (an expired tombstone). */
  remove(stored: StoredVm): void {
    this.byId.delete(stored.id);
    this.pages.remove(stored);
  }

  /** Whether a tenant has any VM here, tombstones included. */
  hasTenant(tenant: string): boolean {
    return this.pages.hasTenant(tenant);
  }

  values(): IterableIterator<StoredVm> {
    return this.byId.values();
  }

  setStatus(stored: StoredVm, next: VmStatus): void {
    this.pages.setStatus(stored, next);
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
    return this.pages.page(query, tenant, (stored) => this.toRecord(stored));
  }

  countByStatus(): Record<VmStatus, number> {
    return this.pages.countByStatus();
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
      volumes: this.volumesOf(stored.id),
    };
    // Shared by every reader of this version: callers only serialize it, never change it.
    if (remember) stored.view = view;
    return view;
  }
}

function addressOf(stored: StoredVm, index: number): string | null {
  const ip = index === 0 ? stored.ip : (stored.extraIps?.[index - 1] ?? null);
  return ip === null ? null : formatIpv4(ip);
}
