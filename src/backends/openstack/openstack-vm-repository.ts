import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { OpenStackHttpError, type CallOptions, type Connection, type Server, type ServerAction } from '../../openstack/index.js';
import type {
  CommandGuard,
  CreateVmInput,
  ListVmsQuery,
  SettledListener,
  VmPage,
  VmRecord,
  VmRepository,
} from '../../repository/vm-repository.js';
import { waitFor } from '../../shared/wait-for.js';
import { ApiError } from '../../domain/errors.js';
import { assertAllowed } from '../../domain/transitions.js';
import { vmStatuses, type VmCommand, type VmStatus, type VmTask } from '../../domain/vm.js';
import type { OpenStackCatalog } from './catalog.js';
import { decodeCursor, encodeCursor, matchesName, novaNameFilter } from './list-query.js';
import { idempotencyTag, marks, pendingStopMarks } from './marks.js';
import type { NetworkChoice } from './network.js';
import { serverToRecord } from './server-record.js';
import { toApiError, type FailedCall } from './upstream-errors.js';

export interface OpenStackRepositoryOptions {
  connection: Connection;
  catalog: OpenStackCatalog;
  network: NetworkChoice;
  log: Logger;
  /** How often waiters (and this adapter's own watchers) re-read a busy server. Default 250. */
  pollIntervalMs?: number;
  /** How far back a deleted server is still found (Nova's changes-since). Default 1 hour. */
  deletedWindowMs?: number;
  /** How long the metrics gauge's counts are reused. Default 5 000. */
  countCacheMs?: number;
  /** A watcher gives up on a task that has not settled after this long. Default 10 minutes. */
  settleTimeoutMs?: number;
  /** A reconciling call that failed (or went unanswered) is sent again after this long. Default 5 000. */
  nudgeRetryMs?: number;
  /** Concurrent and back-to-back reads of one VM within this long share one Nova call. Default 150. */
  readReuseMs?: number;
  now?: () => number;
}

/** A follow-up call that a read of the server showed to be due, and when this process sent it. */
interface Nudge {
  type: ServerAction['type'];
  at: number;
}

/** Listing goes through live servers first, then (when DELETED is asked for) deleted ones. */
type ListPhase = 'live' | 'deleted';

const emptyCounts = (): Record<VmStatus, number> =>
  Object.fromEntries(vmStatuses.map((s) => [s, 0])) as Record<VmStatus, number>;

/**
 * The VM repository on Nova. Nova holds all state: the start=false intent, a stop of a PAUSED
 * VM, and Idempotency-Keys are marks on the server itself (marks.ts), and every read
 * reconciles (sends the stop, unpause or confirmResize that the marks or VERIFY_RESIZE call for),
 * so any process, or one started after a crash, finishes what another began.
 */
export class OpenStackVmRepository implements VmRepository {
  readonly pollIntervalMs: number;
  private readonly connection: Connection;
  private readonly catalog: OpenStackCatalog;
  private readonly network: NetworkChoice;
  private readonly log: Logger;
  private readonly deletedWindowMs: number;
  private readonly countCacheMs: number;
  private readonly settleTimeoutMs: number;
  private readonly nudgeRetryMs: number;
  private readonly now: () => number;
  private readonly listeners: SettledListener[] = [];
  private readonly closing = new AbortController();
  private readonly nudges = new Map<string, Nudge>();
  /**
   * Servers this process sent a DELETE for, until Nova no longer shows them. A delete that
   * interrupts another task (a start, say) can show the server briefly settled again, task_state
   * null, before it goes: the VM must read as deleting throughout.
   */
  private readonly deletesSent = new Set<string>();
  /** One command at a time per VM in this process, so that racing requests meet a fresh state. */
  private readonly locks = new Map<string, Promise<unknown>>();
  /** Deleted servers are final: once seen, kept (bounded) instead of listing changes again. */
  private readonly deleted = new Map<string, VmRecord>();
  private counts: { at: number; value: Promise<Record<VmStatus, number>> } | undefined;
  /**
   * Recent reads of one VM, shared by the pollers of this process (clients poll every few tens of
   * ms; Nova need not answer each one). Commands read afresh and replace the entry.
   */
  private readonly recentReads = new Map<string, { at: number; value: Promise<VmRecord | undefined> }>();
  private readonly readReuseMs: number;

  constructor(options: OpenStackRepositoryOptions) {
    this.connection = options.connection;
    this.catalog = options.catalog;
    this.network = options.network;
    this.log = options.log;
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.deletedWindowMs = options.deletedWindowMs ?? 3_600_000;
    this.countCacheMs = options.countCacheMs ?? 5_000;
    this.settleTimeoutMs = options.settleTimeoutMs ?? 600_000;
    this.nudgeRetryMs = options.nudgeRetryMs ?? 5_000;
    this.readReuseMs = options.readReuseMs ?? 150;
    this.now = options.now ?? Date.now;
  }

  onSettled(listener: SettledListener): void {
    this.listeners.push(listener);
  }

  async create(input: CreateVmInput): Promise<VmRecord> {
    const options = callOptions(input.requestId);
    const call: FailedCall = { operation: 'create' };
    const tags: string[] = [];
    if (!input.start) tags.push(marks.startFalse);
    const metadata: Record<string, string> = { [marks.revision]: newRevision() };
    if (input.idempotency) {
      tags.push(idempotencyTag(input.idempotency.key));
      metadata[marks.fingerprint] = input.idempotency.fingerprint;
    }
    const { id } = await this.upstream(call, async () =>
      this.connection.compute.createServer(
        {
          name: input.name,
          flavorRef: input.flavor.id,
          imageRef: input.image.id,
          networks: await this.network.get(input.requestId),
          tags,
          metadata,
        },
        options,
      ),
    );
    this.log.info({ event: 'openstack.server_created', vm_id: id, start: input.start }, 'Nova accepted the server');
    const record = await this.freshRead(id, options);
    if (record === undefined) throw new ApiError('VM_NOT_FOUND', `The VM ${id} was deleted while it was being created`);
    this.watch(record, 'creating', 'STOPPED');
    return record;
  }

  get(id: string): Promise<VmRecord | undefined> {
    const recent = this.recentReads.get(id);
    if (recent && this.now() - recent.at < this.readReuseMs) return recent.value;
    return this.freshRead(id, {});
  }

  async list(query: ListVmsQuery): Promise<VmPage> {
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
    const page = await this.upstream({ operation: 'list' }, async () =>
      this.connection.compute.listServers({
        // One more than asked tells whether another page follows, without an empty last page.
        limit: query.limit + 1,
        marker,
        sortKey: 'created_at',
        sortDir: 'asc',
        ...(query.name && { name: novaNameFilter(query.name) }),
        ...(phase === 'deleted' && { changesSince: new Date(this.now() - this.deletedWindowMs) }),
      }),
    );
    const servers = page.servers.slice(0, query.limit);
    const records = await this.upstream({ operation: 'list' }, () => this.reconcileAll(servers, {}));
    const items = records.filter(
      (r) =>
        query.statuses.includes(r.vm.status) &&
        (phase === 'live' ? r.vm.status !== 'DELETED' : r.vm.status === 'DELETED') &&
        (!query.name || matchesName(r.vm.name, query.name)),
    );
    const last = servers[servers.length - 1];
    let nextCursor: string | null = null;
    if (page.servers.length > query.limit && last) nextCursor = encodeCursor(phase, last.id);
    else if (phase === 'live' && wantsDeleted) nextCursor = encodeCursor('deleted');
    return { items, nextCursor };
  }

  apply(id: string, command: VmCommand, guard: CommandGuard, requestId?: string): Promise<VmRecord> {
    return this.exclusive(id, async () => {
      const options = callOptions(requestId);
      const current = await this.freshRead(id, options);
      if (current === undefined) throw new ApiError('VM_NOT_FOUND', `No VM with id ${id}`);
      guard(current);
      assertAllowed(current, command);
      const call: FailedCall = { operation: command.action, vmId: id };
      if (command.action === 'delete') return this.delete(current, call, options);
      if (current.vm.status !== 'ERROR') {
        // Nova allows metadata changes only on a settled, non-ERROR server; ERROR changes state anyway.
        await this.upstream(call, () => this.connection.compute.setServerMetadataItem(id, marks.revision, newRevision(), options));
      }
      const task = await this.upstream(call, () => this.act(current, command, options));
      const after = (await this.freshRead(id, options)) ?? current;
      this.watch(after, task, current.vm.status);
      return after;
    });
  }

  async findByIdempotencyKey(key: string): Promise<{ record: VmRecord; fingerprint: string } | undefined> {
    const page = await this.upstream({ operation: 'find idempotency key' }, () =>
      this.connection.compute.listServers({ tags: [idempotencyTag(key)], limit: 1 }),
    );
    const server = page.servers[0];
    if (server === undefined) return undefined;
    const [record] = await this.upstream({ operation: 'find idempotency key', vmId: server.id }, () => this.reconcileAll([server], {}));
    return record && { record, fingerprint: server.metadata[marks.fingerprint] ?? '' };
  }

  countByStatus(): Promise<Record<VmStatus, number>> {
    if (this.counts !== undefined && this.now() - this.counts.at < this.countCacheMs) return this.counts.value;
    const value = this.upstream({ operation: 'count' }, async () => {
      const servers = await this.connection.compute.listAllServers({});
      await this.catalog.refresh();
      const counts = emptyCounts();
      for (const server of servers) counts[serverToRecord(server, this.catalog.names, this.now()).vm.status] += 1;
      return counts;
    });
    this.counts = { at: this.now(), value };
    value.catch(() => {
      if (this.counts?.value === value) this.counts = undefined; // a failure is not worth keeping
    });
    return value;
  }

  close(): void {
    this.closing.abort();
  }

  /** Sends the Nova call(s) for an accepted command; returns the task the VM now shows. */
  private async act(current: VmRecord, command: VmCommand, options: CallOptions): Promise<VmTask> {
    const { id, status } = current.vm;
    const compute = this.connection.compute;
    switch (command.action) {
      case 'start':
        await compute.serverAction(id, { type: 'start' }, options);
        return 'starting';
      case 'stop':
        if (status === 'PAUSED') {
          await this.stopPaused(id, options);
        } else {
          await compute.serverAction(id, { type: 'stop' }, options);
        }
        return 'stopping';
      case 'restart':
        await compute.serverAction(id, { type: 'reboot', rebootType: command.type === 'hard' ? 'HARD' : 'SOFT' }, options);
        return 'restarting';
      case 'pause':
        await compute.serverAction(id, { type: 'pause' }, options);
        return 'pausing';
      case 'suspend':
        await compute.serverAction(id, { type: 'suspend' }, options);
        return 'suspending';
      case 'resume':
        await compute.serverAction(id, { type: status === 'PAUSED' ? 'unpause' : 'resume' }, options);
        return 'resuming';
      case 'resize':
        await compute.serverAction(id, { type: 'resize', flavorRef: command.flavor.id }, options);
        return 'resizing';
      case 'delete':
        await compute.deleteServer(id, options);
        return 'deleting';
    }
  }

  /**
   * Nova refuses to stop a PAUSED server; the contract allows it. Mark the server first, so that
   * whoever reads it next (this process or another) sends the stop once the unpause has settled,
   * and the VM reads as 'stopping' throughout.
   */
  private async stopPaused(id: string, options: CallOptions): Promise<void> {
    await this.connection.compute.addServerTag(id, marks.stopAfterUnpause, options);
    try {
      await this.connection.compute.serverAction(id, { type: 'unpause' }, options);
    } catch (err) {
      // Refused: no stop may follow later on the strength of the mark.
      await this.connection.compute.removeServerTag(id, marks.stopAfterUnpause, options).catch(() => undefined);
      throw err;
    }
  }

  private async delete(current: VmRecord, call: FailedCall, options: CallOptions): Promise<VmRecord> {
    const { vm } = current;
    if (vm.task === 'deleting') return current;
    await this.upstream(call, () => this.act(current, { action: 'delete' }, options));
    this.nudges.delete(vm.id);
    this.recentReads.delete(vm.id);
    if (current.placed) this.deletesSent.add(vm.id);
    if (!current.placed) {
      // Nothing to tear down: Nova forgets a server that never got a host at once.
      const gone: VmRecord = { ...current, vm: { ...vm, status: 'DELETED', task: null, updated_at: new Date(this.now()).toISOString() } };
      this.remember(gone);
      this.announce(gone, vm.status, 'deleting');
      return gone;
    }
    const deleting: VmRecord = { ...current, vm: { ...vm, task: 'deleting' }, version: `${current.version}-d` };
    this.watch(deleting, 'deleting', vm.status);
    return deleting;
  }

  /** A read that later get()s within readReuseMs share. */
  private freshRead(id: string, options: CallOptions): Promise<VmRecord | undefined> {
    const value = this.read(id, options);
    const entry = { at: this.now(), value };
    this.recentReads.set(id, entry);
    const forget = () => {
      if (this.recentReads.get(id) === entry) this.recentReads.delete(id);
    };
    value.then(() => setTimeout(forget, this.readReuseMs).unref(), forget);
    return value;
  }

  /** GET of one server, reconciled; a server Nova no longer has is looked up among the deleted. */
  private async read(id: string, options: CallOptions): Promise<VmRecord | undefined> {
    const remembered = this.deleted.get(id);
    if (remembered) return remembered;
    return this.upstream({ operation: 'read', vmId: id }, async () => {
      let server: Server;
      try {
        server = await this.connection.compute.getServer(id, options);
      } catch (err) {
        if (!(err instanceof OpenStackHttpError && err.status === 404)) throw err;
        this.deletesSent.delete(id);
        return this.findDeleted(id, options);
      }
      const [record] = await this.reconcileAll([server], options);
      return record;
    });
  }

  /**
   * Nova answers 404 for a deleted server at once, but still lists it under `changes-since` (until
   * an operator archives the rows): within the window, it is a DELETED VM; after, unknown.
   */
  private async findDeleted(id: string, options: CallOptions): Promise<VmRecord | undefined> {
    const servers = await this.connection.compute.listAllServers({ changesSince: new Date(this.now() - this.deletedWindowMs) }, options);
    await this.catalog.refresh();
    let found: VmRecord | undefined;
    for (const server of servers) {
      if (server.status !== 'DELETED') continue;
      const record = serverToRecord(server, this.catalog.names, this.now());
      this.remember(record);
      if (server.id === id) found = record;
    }
    return found;
  }

  private remember(record: VmRecord): void {
    this.deleted.set(record.vm.id, record);
    // Oldest first out: Map iteration is insertion order.
    for (const key of this.deleted.keys()) {
      if (this.deleted.size <= 10_000) break;
      this.deleted.delete(key);
    }
  }

  /**
   * The records for servers as Nova shows them, after acting on what they call for: a pending
   * stop whose server is ACTIVE gets its os-stop, a PAUSED one its unpause, a SHUTOFF (or failed)
   * one loses its mark; a VERIFY_RESIZE server gets its confirmResize.
   */
  private async reconcileAll(servers: readonly Server[], options: CallOptions): Promise<VmRecord[]> {
    await this.catalog.refresh();
    return Promise.all(servers.map((server) => this.reconcile(server, options)));
  }

  private async reconcile(server: Server, options: CallOptions): Promise<VmRecord> {
    if (this.deletesSent.has(server.id)) return this.shownDeleting(server);
    let shown = server;
    const tags = server.tags ?? [];
    const pending = pendingStopMarks(tags);
    const idle = server['OS-EXT-STS:task_state'] === null;
    let due: ServerAction | undefined;
    if (idle && server.status === 'VERIFY_RESIZE') due = { type: 'confirmResize' };
    if (idle && pending.length > 0) {
      if (server.status === 'ACTIVE') due = { type: 'stop' };
      else if (server.status === 'PAUSED') due = { type: 'unpause' };
      else if (server.status === 'SHUTOFF' || server.status === 'ERROR') {
        // Done (or failed for good): drop the marks before showing the VM settled, so that a start
        // that follows is never taken for the pending stop. A failed removal shows it still busy.
        if (await this.dropMarks(server.id, pending, options)) shown = { ...server, tags: tags.filter((t) => !pending.includes(t)) };
      }
    }
    this.nudge(server.id, due, options);
    return serverToRecord(shown, this.catalog.names, this.now());
  }

  /** A server this process is deleting: no reconciling call, and the task is 'deleting' until it is gone. */
  private shownDeleting(server: Server): VmRecord {
    this.nudge(server.id, undefined, {});
    const record = serverToRecord(server, this.catalog.names, this.now());
    if (record.vm.status === 'DELETED') {
      this.deletesSent.delete(server.id);
      return record;
    }
    return { ...record, vm: { ...record.vm, task: 'deleting' }, version: `${record.version}-d` };
  }

  private async dropMarks(id: string, pending: readonly string[], options: CallOptions): Promise<boolean> {
    try {
      await Promise.all(pending.map((tag) => this.connection.compute.removeServerTag(id, tag, options)));
      this.log.info({ event: 'openstack.mark_cleared', vm_id: id, marks: pending }, 'pending stop done');
      return true;
    } catch (err) {
      // Another process removed it first: done all the same.
      if (err instanceof OpenStackHttpError && err.status === 404) return true;
      this.log.warn({ event: 'openstack.mark_not_cleared', vm_id: id, error: String(err) }, 'could not clear a pending-stop mark');
      return false;
    }
  }

  /**
   * Sends a reconciling call in the background, once per process until the server no longer
   * calls for it (or again after nudgeRetryMs). Another process may send the same: Nova's 409 for
   * the loser is expected and only logged.
   */
  private nudge(id: string, action: ServerAction | undefined, options: CallOptions): void {
    if (action === undefined) {
      this.nudges.delete(id);
      return;
    }
    const sent = this.nudges.get(id);
    if (sent && sent.type === action.type && this.now() - sent.at < this.nudgeRetryMs) return;
    this.nudges.set(id, { type: action.type, at: this.now() });
    this.log.info({ event: 'openstack.reconcile', vm_id: id, action: action.type }, 'sending the call the server is waiting for');
    this.connection.compute.serverAction(id, action, options).catch((err: unknown) => {
      this.log.info({ event: 'openstack.reconcile_refused', vm_id: id, action: action.type, error: String(err) }, 'reconciling call refused');
    });
  }

  /**
   * Re-reads a VM this process set a task on until it settles (which also drives the reconciling
   * calls when no client is polling), then tells the listeners.
   */
  private watch(record: VmRecord, task: VmTask, previous: VmStatus): void {
    if (record.vm.task === null) {
      this.announce(record, previous, task);
      return;
    }
    const id = record.vm.id;
    let last: VmRecord | undefined = record;
    const read = async (): Promise<VmRecord | undefined> => {
      try {
        last = await this.get(id);
      } catch {
        // A failed read is retried at the next interval; the last record stands meanwhile.
      }
      return last;
    };
    void waitFor(read, (r) => r === undefined || r.vm.task === null, {
      timeoutMs: this.settleTimeoutMs,
      intervalMs: this.pollIntervalMs,
      signal: this.closing.signal,
    }).then((settled) => {
      if (settled !== undefined && settled.vm.task === null) this.announce(settled, previous, task);
    });
  }

  private announce(record: VmRecord, previous: VmStatus, task: VmTask): void {
    for (const listener of this.listeners) listener({ vm: record.vm, previous, task });
  }

  private async exclusive<T>(id: string, work: () => Promise<T>): Promise<T> {
    const before = this.locks.get(id) ?? Promise.resolve();
    const run = before.then(work, work);
    const tail = run.catch(() => undefined);
    this.locks.set(id, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(id) === tail) this.locks.delete(id);
    }
  }

  /** Runs calls to OpenStack, turning its errors into the API's. */
  private async upstream<T>(call: FailedCall, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw toApiError(err, call, this.log);
    }
  }
}

function callOptions(requestId: string | undefined): CallOptions {
  return requestId === undefined ? {} : { requestId };
}

function newRevision(): string {
  return randomBytes(6).toString('base64url');
}

function invalidCursor(): ApiError {
  return new ApiError('VALIDATION_ERROR', 'The cursor is not one this API returned', {
    errors: [{ path: 'cursor', message: 'not a cursor returned by this API' }],
  });
}
