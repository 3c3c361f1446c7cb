import type { Scope } from '../domain/tenancy.js';
import type { SecurityGroupRef } from '../domain/security-group.js';
import type { NetworkRef } from '../domain/network.js';
import type { DataDisk } from '../domain/volume.js';
import type { Flavor, Image, Vm, VmActionEntry, VmCommand, VmStatus, VmTask } from '../domain/vm.js';

/**
 * The port both backends implement (memory, openstack). It speaks the domain's words only: no
 * HTTP, no Nova vocabulary. Every method is async, and a VM it returns may still have a `task`
 * in progress: the backend settles it later and the service waits by polling `get`.
 *
 * Every call about VMs takes the caller's Scope first (tenant, key, role, request id), as Nova's
 * calls take a RequestContext: a backend answers only within it. A VM of another tenant is, to the
 * caller, exactly a VM that does not exist (undefined, VM_NOT_FOUND, left out of lists); an admin
 * scope sees every tenant. A new VM belongs to the scope's tenant.
 *
 * Errors are thrown as ApiError (src/domain/errors.ts) with the domain code, e.g. VM_NOT_FOUND,
 * QUOTA_EXCEEDED, TASK_IN_PROGRESS, BACKEND_UNAVAILABLE, BACKEND_TIMEOUT.
 */

/** One VM as a backend holds it: the API resource plus what the service needs to judge it. */
export interface VmRecord {
  vm: Vm;
  /** Changes whenever the VM changes; the HTTP layer quotes it as the ETag. */
  version: string;
  /** Whether the VM was ever placed on a host (a VM that failed scheduling was not). */
  placed: boolean;
}

export interface IdempotencyClaim {
  key: string;
  /** A hash of the request that used the key, so a reuse with another body can be told apart. */
  fingerprint: string;
}

export interface CreateVmInput {
  name: string;
  flavor: Flavor;
  image: Image;
  /** Settle in RUNNING rather than STOPPED. */
  start: boolean;
  idempotency?: IdempotencyClaim;
  /** Its security groups, resolved in the caller's tenant; absent: none. */
  securityGroups?: readonly SecurityGroupRef[];
  /** The networks to plug it into, in order (docs/contract.md section 9); absent: the backend's default. */
  networks?: readonly NetworkRef[];
  /** New volumes made and attached as the VM is created (docs/contract.md section 10). */
  dataDisks?: readonly DataDisk[];
}

export interface ListVmsQuery {
  /** Which statuses to list; never empty. */
  statuses: readonly VmStatus[];
  name?: { value: string; prefix: boolean };
  limit: number;
  /** An admin's `?tenant=`: only this tenant's VMs (other scopes list their own tenant's anyway). */
  tenant?: string;
  /** A `nextCursor` this backend returned before; opaque to everyone else. */
  cursor?: string;
}

export interface VmPage {
  items: VmRecord[];
  nextCursor: string | null;
}

/** Per quota: how much the tenant may hold and holds now; -1 is unlimited. */
export type QuotaUsage = Record<'instances' | 'vcpus' | 'ram_mb', { limit: number; used: number }>;

/**
 * Called by the backend with the freshest record, at the moment it is about to act, and atomically
 * with the act where the backend can offer that. It throws (an ApiError) to refuse the command.
 */
export type CommandGuard = (current: VmRecord) => void;

/** A task finished: the VM as it settled, the status it had before, and what the task was. */
export type SettledListener = (event: { vm: Vm; previous: VmStatus; task: VmTask }) => void;

export interface VmRepository {
  /** How often a waiter should re-read a VM with a task in progress. */
  readonly pollIntervalMs: number;

  create(scope: Scope, input: CreateVmInput): Promise<VmRecord>;
  get(scope: Scope, id: string): Promise<VmRecord | undefined>;
  list(scope: Scope, query: ListVmsQuery): Promise<VmPage>;
  /**
   * Starts `command` on VM `id` (delete included), once `guard` and then the state machine
   * (`assertAllowed` of src/domain/transitions.ts) accept the current record.
   */
  apply(scope: Scope, id: string, command: VmCommand, guard: CommandGuard): Promise<VmRecord>;
  /** The VM the scope's tenant created earlier with this Idempotency-Key (keys are per tenant). */
  findByIdempotencyKey(scope: Scope, key: string): Promise<{ record: VmRecord; fingerprint: string } | undefined>;
  /** The VM's action history, newest first; undefined when the scope sees no such VM. */
  listActions(scope: Scope, id: string): Promise<VmActionEntry[] | undefined>;
  /** What a tenant's VMs hold against its quota, and the limits (-1 unlimited). */
  quotaUsage(scope: Scope): Promise<QuotaUsage>;
  /** Whether a tenant owns any VM, deleted ones the backend still answers for included. */
  tenantOwnsVms(tenant: string): Promise<boolean>;
  /** Live VMs by status, every tenant's, for the metrics gauge. */
  countByStatus(): Promise<Record<VmStatus, number>>;
  /** Tells `listener` about every task this backend sees settle (for the domain event log). */
  onSettled(listener: SettledListener): void;
}

export interface CatalogRepository {
  listFlavors(): Promise<Flavor[]>;
  /** By name or by id. */
  findFlavor(nameOrId: string): Promise<Flavor | undefined>;
  listImages(): Promise<Image[]>;
  findImage(nameOrId: string): Promise<Image | undefined>;
}
