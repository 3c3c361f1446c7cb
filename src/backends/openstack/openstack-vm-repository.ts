import type { OpenStackVolumeRepository } from './openstack-volume-repository.js';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { CallOptions, Connection } from '../../openstack/index.js';
import type {
  CommandGuard,
  CreateVmInput,
  ListVmsQuery,
  QuotaUsage,
  SettledListener,
  VmPage,
  VmRecord,
  VmRepository,
} from '../../repository/vm-repository.js';
import { ApiError } from '../../domain/errors.js';
import { scopeSees, type Scope } from '../../domain/tenancy.js';
import { assertAllowed } from '../../domain/transitions.js';
import { vmStatuses, type VmActionEntry, type VmCommand, type VmStatus } from '../../domain/vm.js';
import { novaActionToVm } from './nova-actions.js';
import type { OpenStackCatalog } from './catalog.js';
import { DeletedServers } from './deleted-servers.js';
import { KeyedLock } from './keyed-lock.js';
import { decodeCursor, encodeCursor, matchesName, novaNameFilter } from './list-query.js';
import { idempotencyTag, marks, tenantTag } from './marks.js';
import type { NetworkChoice } from './network.js';
import { ReadCache } from './read-cache.js';
import { Reconciler } from './reconciler.js';
import { sendCommand } from './server-commands.js';
import { serverToRecord } from './server-record.js';
import { defaultTuning, type OpenStackTuning } from './tuning.js';
import { upstream } from './upstream-call.js';
import type { FailedCall } from './upstream-errors.js';
import { sharedProjectPlacement, type TenantPlacement } from './tenant-placement.js';
import { withVolumeDevices } from './volume-devices.js';
import { Watcher } from './watcher.js';

export interface OpenStackRepositoryOptions {
  /** The operator's connection: reads, and the work the API does on its own. */
  connection: Connection;
  /** Where each tenant's servers live and whose token makes them; default: all in the operator's project. */
  placement?: TenantPlacement;
  catalog: OpenStackCatalog;
  network: NetworkChoice;
  log: Logger;
  tuning?: Partial<OpenStackTuning>;
  now?: () => number;
  /** Makes a VM's data disks in Cinder (and discards them when the create fails); absent: data disks are refused. */
  dataDisks?: Pick<OpenStackVolumeRepository, 'makeDataDisks' | 'discard'>;
}

/** Listing goes through live servers first, then (when DELETED is asked for) deleted ones. */
type ListPhase = 'live' | 'deleted';

const emptyCounts = (): Record<VmStatus, number> =>
  Object.fromEntries(vmStatuses.map((s) => [s, 0])) as Record<VmStatus, number>;

/**
 * The VM repository on Nova. Nova holds all state: the start=false intent, a stop of a PAUSED
 * VM, and Idempotency-Keys are marks on the server itself (marks.ts), and every read reconciles
 * (reconciler.ts), so any process, or one started after a crash, finishes what another began.
 * This class sequences commands; reading (read-cache.ts, deleted-servers.ts) and following tasks
 * to their end (watcher.ts) live beside it.
 */
export class OpenStackVmRepository implements VmRepository {
  /** Shared by reference with the modules below; a test may tighten it on a running backend. */
  readonly tuning: OpenStackTuning;
  private readonly connection: Connection;
  private readonly placement: TenantPlacement;
  private readonly catalog: OpenStackCatalog;
  private readonly network: NetworkChoice;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly reconciler: Reconciler;
  private readonly deleted: DeletedServers;
  private readonly reads: ReadCache;
  private readonly watcher: Watcher;
  /** One command at a time per VM in this process, so that racing requests meet a fresh state. */
  private readonly commands = new KeyedLock();
  private readonly dataDisks: OpenStackRepositoryOptions['dataDisks'];
  private counts: { at: number; value: Promise<Record<VmStatus, number>> } | undefined;

  constructor(options: OpenStackRepositoryOptions) {
    this.connection = options.connection;
    this.placement = options.placement ?? sharedProjectPlacement(options.connection);
    this.catalog = options.catalog;
    this.network = options.network;
    this.log = options.log;
    this.now = options.now ?? Date.now;
    this.dataDisks = options.dataDisks;
    this.tuning = { ...defaultTuning, ...options.tuning };
    const tenantOf = this.placement.tenantOfServer;
    const shared = { connection: this.connection, catalog: this.catalog, log: this.log, tuning: this.tuning, now: this.now, tenantOf };
    this.reconciler = new Reconciler(shared);
    this.deleted = new DeletedServers({ ...shared, everyTenant: this.placement.serverFilter(undefined) });
    this.reads = new ReadCache({ ...shared, reconciler: this.reconciler, deleted: this.deleted });
    this.watcher = new Watcher(this.tuning, (id) => this.reads.get(id));
  }

  get pollIntervalMs(): number {
    return this.tuning.pollIntervalMs;
  }

  onSettled(listener: SettledListener): void {
    this.watcher.onSettled(listener);
  }

  async create(scope: Scope, input: CreateVmInput): Promise<VmRecord> {
    const options = callOptions(scope.requestId);
    const call: FailedCall = { operation: 'create' };
    const tags: string[] = [tenantTag(scope.tenant)];
    if (!input.start) tags.push(marks.startFalse);
    const metadata: Record<string, string> = { [marks.revision]: newRevision() };
    if (input.idempotency) {
      tags.push(idempotencyTag(input.idempotency.key));
      metadata[marks.fingerprint] = input.idempotency.fingerprint;
    }
    // Data disks are made first, marked with the tenant, and attached at boot; a create that
    // fails after them deletes them, so that it leaves no volume behind.
    const disks = input.dataDisks?.length ? await this.makeDataDisks(scope, input) : [];
    // The tenant's own token makes the server, so it is in the tenant's project (tenant-placement.ts).
    const { id } = await upstream(this.log, call, async () =>
      this.placement.connectionFor(scope).compute.createServer(
        {
          name: input.name,
          flavorRef: input.flavor.id,
          imageRef: input.image.id,
          // Networks named in the create were resolved (and checked the tenant's) by the service.
          networks: input.networks ? input.networks.map((n) => ({ uuid: n.id })) : await this.network.get(scope.requestId),
          tags,
          metadata,
          ...(input.securityGroups && { securityGroups: input.securityGroups.map((g) => g.id) }),
          ...(disks.length > 0 && { volumes: disks }),
        },
        options,
      ),
    ).catch(async (err: unknown) => {
      await this.dataDisks?.discard(scope, disks.map((d) => d.id));
      throw err;
    });
    this.log.info({ event: 'openstack.server_created', vm_id: id, start: input.start }, 'Nova accepted the server');
    this.reads.expectLive(id);
    const record = await this.reads.fresh(id, options);
    if (record === undefined) throw new ApiError('VM_NOT_FOUND', `The VM ${id} was deleted while it was being created`);
    this.watcher.watch(record, 'creating', 'STOPPED');
    return record;
  }

  private makeDataDisks(scope: Scope, input: CreateVmInput): Promise<{ id: string; deleteOnTermination: boolean }[]> {
    if (!this.dataDisks) throw new ApiError('VALIDATION_ERROR', 'This backend makes no data disks', { errors: [{ path: 'body.data_disks', message: 'not offered here' }] });
    return this.dataDisks.makeDataDisks(scope, input.name, input.dataDisks ?? []);
  }

  async get(scope: Scope, id: string): Promise<VmRecord | undefined> {
    const record = await this.reads.get(id);
    // One VM read: the devices of its volumes too (one more Nova call, only for a VM with volumes).
    return record && scopeSees(scope, record.vm.tenant) ? withVolumeDevices(this.connection, this.log, record, scope.requestId) : undefined;
  }

  async list(scope: Scope, query: ListVmsQuery): Promise<VmPage> {
    const tenant = scope.role === 'admin' ? query.tenant : scope.tenant;
    // Nova finds a tenant's servers by its tag or its project (tenant-placement.ts); the default
    // tenant also owns untagged servers, so every record's tenant is checked here too, as statuses
    // are (a page may then hold fewer than `limit`).
    const byTenant = this.placement.serverFilter(tenant);
    const wantsDeleted = query.statuses.includes('DELETED');
    const wantsLive = query.statuses.some((s) => s !== 'DELETED');
    let phase: ListPhase = wantsLive ? 'live' : 'deleted';
    let marker: string | undefined;
    if (query.cursor !== undefined) {
      const cursor = decodeCursor(query.cursor);
      if (cursor.phase === 'deleted' && !wantsDeleted) throw invalidCursor();
      phase = cursor.phase;
      marker = cursor.marker;
    }
    const page = await upstream(this.log, { operation: 'list' }, async () =>
      this.connection.compute.listServers({
        // One more than asked tells whether another page follows, without an empty last page.
        limit: query.limit + 1,
        marker,
        sortKey: 'created_at',
        sortDir: 'asc',
        ...(query.name && { name: novaNameFilter(query.name) }),
        ...byTenant,
        ...(phase === 'deleted' && { changesSince: this.deleted.windowStart() }),
      }, callOptions(scope.requestId)),
    );
    const servers = page.servers.slice(0, query.limit);
    const records = await upstream(this.log, { operation: 'list' }, () => this.reconciler.reconcileAll(servers, {}));
    const items = records.filter(
      (r) =>
        query.statuses.includes(r.vm.status) &&
        (phase === 'live' ? r.vm.status !== 'DELETED' : r.vm.status === 'DELETED') &&
        (!query.name || matchesName(r.vm.name, query.name)) &&
        (tenant === undefined || r.vm.tenant === tenant),
    );
    const last = servers[servers.length - 1];
    let nextCursor: string | null = null;
    if (page.servers.length > query.limit && last) nextCursor = encodeCursor(phase, last.id);
    else if (phase === 'live' && wantsDeleted) nextCursor = encodeCursor('deleted');
    return { items, nextCursor };
  }

  apply(scope: Scope, id: string, command: VmCommand, guard: CommandGuard): Promise<VmRecord> {
    return this.commands.run(id, async () => {
      const options = callOptions(scope.requestId);
      const current = await this.reads.fresh(id, options);
      if (current === undefined || !scopeSees(scope, current.vm.tenant)) throw new ApiError('VM_NOT_FOUND', `No VM with id ${id}`);
      guard(current);
      assertAllowed(current, command);
      const call: FailedCall = { operation: command.action, vmId: id };
      const compute = this.placement.connectionFor(scope, current.vm.tenant).compute;
      if (command.action === 'delete') return this.delete(compute, current, call, options);
      if (current.vm.status !== 'ERROR') {
        // Nova allows metadata changes only on a settled, non-ERROR server; ERROR changes state anyway.
        await upstream(this.log, call, () => compute.setServerMetadataItem(id, marks.revision, newRevision(), options));
      }
      const task = await upstream(this.log, call, () => sendCommand(compute, current, command, options));
      const after = (await this.reads.fresh(id, options)) ?? current;
      this.watcher.watch(after, task, current.vm.status);
      return after;
    });
  }

  async findByIdempotencyKey(scope: Scope, key: string): Promise<{ record: VmRecord; fingerprint: string } | undefined> {
    // Keys are per tenant: Nova's `tags` filter matches servers carrying all of them.
    const page = await upstream(this.log, { operation: 'find idempotency key' }, () =>
      this.connection.compute.listServers(
        { ...this.placement.serverFilter(scope.tenant), tags: [idempotencyTag(key), tenantTag(scope.tenant)], limit: 1 },
        callOptions(scope.requestId),
      ),
    );
    const server = page.servers[0];
    if (server === undefined) return undefined;
    const [record] = await upstream(this.log, { operation: 'find idempotency key', vmId: server.id }, () => this.reconciler.reconcileAll([server], {}));
    return record && { record, fingerprint: server.metadata[marks.fingerprint] ?? '' };
  }

  /**
   * Nova's instance actions in the API's words (nova-actions.ts). Nova says when an action failed
   * (`message: "Error"`) but not when it finished: an older action is finished, the newest one is
   * finished once the VM has no task.
   */
  async listActions(scope: Scope, id: string): Promise<VmActionEntry[] | undefined> {
    const record = await this.get(scope, id);
    if (record === undefined) return undefined;
    const actions = await upstream(this.log, { operation: 'actions', vmId: id }, () =>
      this.placement.connectionFor(scope, record.vm.tenant).compute.listInstanceActions(id, callOptions(scope.requestId)),
    );
    return actions.flatMap((nova, index): VmActionEntry[] => {
      const action = novaActionToVm(nova.action);
      if (action === undefined) return [];
      const failed = nova.message === 'Error';
      const finished = failed || index > 0 || record.vm.task === null;
      return [
        {
          action,
          request_id: nova.request_id,
          key_id: null,
          started_at: isoOf(nova.start_time),
          finished_at: finished ? isoOf(nova.updated_time ?? nova.start_time) : null,
          outcome: failed ? 'error' : finished ? 'success' : null,
        },
      ];
    });
  }

  /**
   * Nova's limits of the project the tenant's token is scoped to: the tenant's own with Keystone
   * tenants, the operator's shared one otherwise (tenant-placement.ts).
   */
  async quotaUsage(scope: Scope): Promise<QuotaUsage> {
    const limits = await upstream(this.log, { operation: 'quotas' }, () => this.placement.connectionFor(scope).compute.getLimits(callOptions(scope.requestId)));
    return {
      instances: { limit: limits.maxTotalInstances, used: limits.totalInstancesUsed },
      vcpus: { limit: limits.maxTotalCores, used: limits.totalCoresUsed },
      ram_mb: { limit: limits.maxTotalRAMSize, used: limits.totalRAMUsed },
    };
  }

  async tenantOwnsVms(tenant: string): Promise<boolean> {
    const page = await upstream(this.log, { operation: 'tenant servers' }, () =>
      this.connection.compute.listServers({ ...this.placement.serverFilter(tenant), tags: [tenantTag(tenant)], limit: 1 }),
    );
    return page.servers.length > 0;
  }

  countByStatus(): Promise<Record<VmStatus, number>> {
    if (this.counts !== undefined && this.now() - this.counts.at < this.tuning.countCacheMs) return this.counts.value;
    const value = upstream(this.log, { operation: 'count' }, async () => {
      const servers = await this.connection.compute.listAllServers(this.placement.serverFilter(undefined));
      await this.catalog.refresh();
      const counts = emptyCounts();
      for (const server of servers) counts[serverToRecord(server, this.catalog.names, this.now(), this.placement.tenantOfServer).vm.status] += 1;
      return counts;
    });
    this.counts = { at: this.now(), value };
    value.catch(() => {
      if (this.counts?.value === value) this.counts = undefined; // a failure is not worth keeping
    });
    return value;
  }

  close(): void {
    this.watcher.close();
  }

  private async delete(compute: Connection['compute'], current: VmRecord, call: FailedCall, options: CallOptions): Promise<VmRecord> {
    const { vm } = current;
    if (vm.task === 'deleting') return current;
    await upstream(this.log, call, () => sendCommand(compute, current, { action: 'delete' }, options));
    this.reconciler.deleteSent(vm.id, current.placed);
    this.reads.forget(vm.id);
    if (!current.placed) {
      // Nothing to tear down: Nova forgets a server that never got a host at once.
      const gone: VmRecord = { ...current, vm: { ...vm, status: 'DELETED', task: null, updated_at: new Date(this.now()).toISOString() } };
      this.deleted.remember(gone);
      this.watcher.announce(gone, vm.status, 'deleting');
      return gone;
    }
    const deleting: VmRecord = { ...current, vm: { ...vm, task: 'deleting' }, version: `${current.version}-d` };
    this.watcher.watch(deleting, 'deleting', vm.status);
    return deleting;
  }
}

function callOptions(requestId: string): CallOptions {
  return { requestId };
}

/** Nova writes times without a zone (UTC). */
function isoOf(time: string): string {
  return new Date(/[zZ]|[+-]\d\d:\d\d$/.test(time) ? time : `${time}Z`).toISOString();
}

function newRevision(): string {
  return randomBytes(6).toString('base64url');
}

function invalidCursor(): ApiError {
  return new ApiError('VALIDATION_ERROR', 'The cursor is not one this API returned', {
    errors: [{ path: 'cursor', message: 'not a cursor returned by this API' }],
  });
}
