import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { ApiError } from '../../domain/errors.js';
import { DEFAULT_TENANT, scopeSees, type Scope } from '../../domain/tenancy.js';
import { assertVolumeAllowed, type DataDisk, type Volume } from '../../domain/volume.js';
import { OpenStackHttpError, type CinderVolume, type Connection } from '../../openstack/index.js';
import type { VolumeStatus, VolumeTask } from '../../domain/volume.js';
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
import { waitFor } from '../../shared/wait-for.js';
import { cinderErrorFaults, readCinderStatus } from './cinder-status.js';
import { upstream } from './upstream-call.js';
import { volumeWatcher } from './watcher.js';

/**
 * What this API keeps in a Cinder volume's metadata: its tenant (what scopes volumes within one
 * project, as the tag `vmapi-tenant-<id>` scopes servers; with Keystone tenants each tenant's are in
 * its own project as well: tenant-placement.ts) and the Idempotency-Key that created it.
 */
export const volumeMarks = {
  tenant: 'vmapi-tenant',
  /** A hash of the key, as keys may hold any character. */
  idempotency: 'vmapi-idempotency',
  fingerprint: 'vmapi-idempotency-fingerprint',
} as const;

const CURSOR_PREFIX = 'c1:';

export interface OpenStackVolumeOptions {
  /** The connection that serves a scope: the operator's project for every tenant today (the Keystone seam). */
  connectionFor: (scope: Scope) => Connection;
  log: Logger;
  pollIntervalMs?: number;
  /** The watcher gives up on a task that has not settled after this long (10 minutes). */
  settleTimeoutMs?: number;
}

/**
 * Volumes in Cinder v3: create, update, extend and delete through the block-storage proxy; attach
 * and detach through Nova's os-volume_attachments (Nova tells Cinder); the status read through the
 * table in cinder-status.ts. Cinder forgets a deleted volume at once: GET answers 404 then.
 */
export class OpenStackVolumeRepository implements VolumeRepository {
  readonly pollIntervalMs: number;
  private readonly connectionFor: (scope: Scope) => Connection;
  private readonly log: Logger;
  /** Cinder tells nobody when a task ends: the tasks this process started are polled to their settle. */
  private readonly watcher: ReturnType<typeof volumeWatcher>;

  constructor(options: OpenStackVolumeOptions) {
    this.connectionFor = options.connectionFor;
    this.log = options.log;
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
    this.watcher = volumeWatcher({ pollIntervalMs: this.pollIntervalMs, settleTimeoutMs: options.settleTimeoutMs ?? 600_000 });
  }

  onSettled(listener: VolumeSettledListener): void {
    this.watcher.onSettled(listener);
  }

  /** Stops following tasks. */
  close(): void {
    this.watcher.close();
  }

  async create(scope: Scope, input: CreateVolumeInput): Promise<VolumeRecord> {
    const record = await this.make(scope, input);
    this.watch(scope, record, 'creating', 'AVAILABLE');
    return record;
  }

  /** Makes a volume in Cinder, marked with its tenant (and key); not watched (data disks are waited for). */
  private async make(scope: Scope, input: CreateVolumeInput): Promise<VolumeRecord> {
    const metadata: Record<string, string> = { [volumeMarks.tenant]: scope.tenant };
    if (input.idempotency) {
      metadata[volumeMarks.idempotency] = keyHash(input.idempotency.key);
      metadata[volumeMarks.fingerprint] = input.idempotency.fingerprint;
    }
    const made = await this.cinder(scope, 'create', {}, (conn) =>
      conn.blockStorage.createVolume({ name: input.name, description: input.description, size: input.sizeGb, metadata }, { requestId: scope.requestId }),
    );
    return toRecord(made);
  }

  async get(scope: Scope, id: string): Promise<VolumeRecord | undefined> {
    const found = await this.read(scope, id);
    return found && toRecord(found);
  }

  async list(scope: Scope, query: ListVolumesQuery): Promise<VolumePage> {
    const tenant = scope.role === 'admin' ? query.tenant : scope.tenant;
    const marker = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    // Cinder filters by the tenant's mark; the default tenant also owns unmarked volumes, so its
    // volumes are filtered here, as statuses and name prefixes are (a page may hold fewer than `limit`).
    const byMark = tenant !== undefined && tenant !== DEFAULT_TENANT ? { [volumeMarks.tenant]: tenant } : undefined;
    const page = await this.cinder(scope, 'list', {}, (conn) =>
      conn.blockStorage.listVolumes(
        {
          limit: query.limit + 1,
          sort: 'created_at:asc',
          ...(marker !== undefined && { marker }),
          ...(byMark && { metadata: byMark }),
          ...(query.name && !query.name.prefix && { name: query.name.value }),
        },
        { requestId: scope.requestId },
      ),
    );
    const read = page.volumes.slice(0, query.limit);
    const items = read
      .map(toRecord)
      .filter((r) => tenant === undefined || r.volume.tenant === tenant)
      .filter((r) => query.statuses.includes(r.volume.status))
      .filter((r) => !query.name?.prefix || r.volume.name.startsWith(query.name.value));
    const last = read.at(-1);
    return { items, nextCursor: page.volumes.length > query.limit && last ? encodeCursor(last.id) : null };
  }

  async update(scope: Scope, id: string, changes: VolumeChanges, guard: VolumeGuard): Promise<VolumeRecord> {
    const current = await this.found(scope, id);
    guard(current);
    const updated = await this.cinder(scope, 'update', { volumeId: id }, (conn) =>
      conn.blockStorage.updateVolume(id, changes, { requestId: scope.requestId }),
    );
    return toRecord(updated);
  }

  async apply(scope: Scope, id: string, command: VolumeCommand, guard: VolumeGuard): Promise<VolumeRecord> {
    const current = await this.found(scope, id);
    guard(current);
    const volume = current.volume;
    if (command.action === 'delete' && volume.task === 'deleting') return current;
    if (command.action === 'detach' && volume.attached_to?.vm_id !== command.vmId) {
      throw new ApiError('VOLUME_NOT_FOUND', `Volume ${id} is not attached to VM ${command.vmId}`);
    }
    assertVolumeAllowed(volume, command.action);
    const options = { requestId: scope.requestId };
    switch (command.action) {
      case 'extend':
        if (command.sizeGb <= volume.size_gb) {
          throw new ApiError('VALIDATION_ERROR', `A volume only grows: size_gb must be more than ${volume.size_gb}`, {
            errors: [{ path: 'body.size_gb', message: `must be more than the volume's ${volume.size_gb}` }],
          });
        }
        await this.cinder(scope, 'extend', { volumeId: id }, (conn) => conn.blockStorage.volumeAction(id, { 'os-extend': { new_size: command.sizeGb } }, options));
        break;
      case 'attach':
        await this.cinder(scope, 'attach', { volumeId: id, vmId: command.vmId }, (conn) => conn.compute.attachVolume(command.vmId, id, command.device, options));
        break;
      case 'detach':
        await this.cinder(scope, 'detach', { volumeId: id, vmId: command.vmId }, (conn) => conn.compute.detachVolume(command.vmId, id, options));
        break;
      case 'delete':
        await this.cinder(scope, 'delete', { volumeId: id }, (conn) => conn.blockStorage.deleteVolume(id, options));
        break;
    }
    const after = await this.read(scope, id);
    if (!after) return { volume: { ...volume, status: 'DELETED', task: null, attached_to: null }, version: `${current.version}-x` };
    const record = toRecord(after);
    const task = ({ extend: 'extending', attach: 'attaching', detach: 'detaching', delete: 'deleting' } as const)[command.action];
    // Cinder may not show the task yet when the call returns; the request was accepted all the same.
    const shown = record.version === current.version && record.volume.task === null ? { volume: { ...record.volume, task }, version: `${record.version}-${task}` } : record;
    // A delete's settle is Cinder forgetting the volume: the stream announced it when accepted.
    if (command.action !== 'delete') this.watch(scope, shown, task, volume.status, current.version);
    return shown;
  }

  /**
   * Follows a task to its settle, which the listeners hear of (the event stream). `unchanged`: the
   * version before the call, while Cinder still shows which the task has not begun.
   */
  private watch(scope: Scope, record: VolumeRecord, task: VolumeTask, previous: VolumeStatus, unchanged?: string): void {
    const reread = async () => {
      const found = await this.read(scope, record.volume.id);
      const now = found && toRecord(found);
      return unchanged !== undefined && now?.version === unchanged ? record : now;
    };
    this.watcher.watchWith(reread, record, task, previous);
  }

  async findByIdempotencyKey(scope: Scope, key: string): Promise<{ record: VolumeRecord; fingerprint: string } | undefined> {
    const page = await this.cinder(scope, 'find by idempotency key', {}, (conn) =>
      conn.blockStorage.listVolumes({ limit: 1, metadata: { [volumeMarks.tenant]: scope.tenant, [volumeMarks.idempotency]: keyHash(key) } }, { requestId: scope.requestId }),
    );
    const found = page.volumes[0];
    return found && { record: toRecord(found), fingerprint: found.metadata[volumeMarks.fingerprint] ?? '' };
  }

  async quotaUsage(scope: Scope): Promise<VolumeQuotaUsage> {
    const limits = await this.cinder(scope, 'limits', {}, (conn) => conn.blockStorage.getLimits({ requestId: scope.requestId }));
    return {
      volumes: { limit: limits.maxTotalVolumes, used: limits.totalVolumesUsed },
      gigabytes: { limit: limits.maxTotalVolumeGigabytes, used: limits.totalGigabytesUsed },
    };
  }

  async tenantOwnsVolumes(tenant: string): Promise<boolean> {
    const scope: Scope = { tenant, keyId: null, role: 'admin', requestId: 'tenant-check' };
    const page = await this.cinder(scope, 'list', {}, (conn) => conn.blockStorage.listVolumes({ limit: 1, metadata: { [volumeMarks.tenant]: tenant } }));
    return page.volumes.length > 0;
  }

  /**
   * Makes a VM's data disks in Cinder, marked with the tenant, and waits until each is available,
   * so that Nova can attach them at boot (block_device_mapping_v2). If one cannot be made, those
   * made are deleted and the error is thrown: a VM create leaves no volume behind.
   */
  async makeDataDisks(scope: Scope, vmName: string, disks: readonly DataDisk[]): Promise<{ id: string; deleteOnTermination: boolean }[]> {
    const made: { id: string; deleteOnTermination: boolean }[] = [];
    try {
      for (const [i, disk] of disks.entries()) {
        const record = await this.make(scope, { name: `${vmName}-disk-${i + 1}`, description: `Data disk ${i + 1} of VM ${vmName}`, sizeGb: disk.size_gb });
        made.push({ id: record.volume.id, deleteOnTermination: disk.delete_on_termination });
        const ready = await waitFor(() => this.read(scope, record.volume.id), (v) => v === undefined || v.status !== 'creating', {
          timeoutMs: 60_000,
          intervalMs: this.pollIntervalMs,
        });
        if (ready?.status !== 'available') throw new ApiError('BACKEND_UNAVAILABLE', 'The cloud could not make a data disk', { upstream: 'error' });
      }
      return made;
    } catch (err) {
      await this.discard(scope, made.map((d) => d.id));
      throw err;
    }
  }

  /** Deletes volumes this API made for a VM whose create then failed. */
  async discard(scope: Scope, ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      await this.cinder(scope, 'discard data disk', { volumeId: id }, (conn) => conn.blockStorage.deleteVolume(id, { requestId: scope.requestId })).catch(
        (err: unknown) => this.log.warn({ event: 'openstack.data_disk_left', volume_id: id, error: String(err) }, 'A data disk could not be deleted'),
      );
    }
  }

  private async read(scope: Scope, id: string): Promise<CinderVolume | undefined> {
    const found = await this.cinder(scope, 'get', {}, async (conn) => {
      try {
        return await conn.blockStorage.getVolume(id, { requestId: scope.requestId });
      } catch (err) {
        // Cinder forgets a deleted volume at once: as unknown as an id never made.
        if (err instanceof OpenStackHttpError && err.status === 404) return undefined;
        throw err;
      }
    });
    return found && scopeSees(scope, tenantOf(found)) ? found : undefined;
  }

  private async found(scope: Scope, id: string): Promise<VolumeRecord> {
    const found = await this.read(scope, id);
    if (!found) throw new ApiError('VOLUME_NOT_FOUND', `No volume with id ${id}`);
    return toRecord(found);
  }

  /**
   * One call, its errors in the volume's words: Cinder's quota refusals (413) are 403s, a 404 on
   * the volume is VOLUME_NOT_FOUND, Cinder's and Nova's 400 on a volume in the wrong state is a 409.
   */
  private async cinder<T>(scope: Scope, operation: string, about: { volumeId?: string; vmId?: string }, work: (conn: Connection) => Promise<T>): Promise<T> {
    try {
      return await work(this.connectionFor(scope));
    } catch (err) {
      if (err instanceof OpenStackHttpError) {
        const mapped = volumeError(err, about);
        if (mapped) {
          this.log.info({ event: 'openstack.volume_call_refused', operation, upstream_status: err.status, upstream_message: err.upstreamMessage }, `Cinder refused ${operation}`);
          throw mapped;
        }
      }
      return upstream(this.log, { operation, ...(about.vmId !== undefined && { vmId: about.vmId }) }, () => Promise.reject(err));
    }
  }
}

function volumeError(err: OpenStackHttpError, about: { volumeId?: string; vmId?: string }): ApiError | undefined {
  const options = { cause: err };
  if (err.status === 413 || (err.status === 403 && /quota/i.test(err.upstreamMessage))) {
    return new ApiError('QUOTA_EXCEEDED', "The project's volume quota would be exceeded; nothing was created", {}, options);
  }
  if (err.status === 404 && about.vmId !== undefined && err.service === 'compute' && !/volume/i.test(err.upstreamMessage)) {
    return new ApiError('VM_NOT_FOUND', `No VM with id ${about.vmId}`, {}, options);
  }
  if (err.status === 404 && about.volumeId !== undefined) {
    return new ApiError('VOLUME_NOT_FOUND', `No volume with id ${about.volumeId}`, {}, options);
  }
  if (err.status === 400 && about.volumeId !== undefined && /in-use|attached|status must be available|invalid volume/i.test(err.upstreamMessage)) {
    return new ApiError('RESOURCE_IN_USE', `Volume ${about.volumeId} is in use or busy in the cloud`, {}, options);
  }
  if (err.status === 409 && about.vmId !== undefined) {
    return new ApiError('INVALID_STATE_TRANSITION', 'The cloud does not allow this on the VM in its current state', {}, options);
  }
  return undefined;
}

function tenantOf(volume: CinderVolume): string {
  return volume.metadata[volumeMarks.tenant] ?? DEFAULT_TENANT;
}

/** The volume as the API shows it, from Cinder's. Pure. */
export function toRecord(found: CinderVolume): VolumeRecord {
  const attachment = found.attachments[0];
  const reading = readCinderStatus(found.status, attachment !== undefined);
  const updated = isoUtc(found.updated_at ?? found.created_at);
  const volume: Volume = {
    id: found.id,
    name: found.name ?? '',
    description: found.description ?? '',
    size_gb: found.size,
    status: reading.status,
    task: reading.task,
    attached_to: attachment ? { vm_id: attachment.server_id, device: attachment.device ?? null } : null,
    fault:
      reading.status === 'ERROR'
        ? reading.known
          ? { code: cinderErrorFaults[found.status] ?? 'CLOUD_FAULT', message: 'The cloud reports that the volume failed', at: updated }
          : { code: 'UNSUPPORTED_STATE', message: 'The cloud reports a state this API cannot manage', at: updated }
        : null,
    tenant: tenantOf(found),
    created_at: isoUtc(found.created_at),
    updated_at: updated,
  };
  const version = createHash('sha256')
    .update(JSON.stringify([found.updated_at, found.status, found.size, found.name, found.description, found.attachments.map((a) => a.server_id)]))
    .digest('base64url')
    .slice(0, 22);
  return { volume, version };
}

function keyHash(key: string): string {
  return createHash('sha256').update(key).digest('base64url');
}

/** Cinder writes "2026-11-23T19:06:55.000000" (UTC, no zone); the API writes ISO 8601 UTC. */
function isoUtc(text: string): string {
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text}Z`);
  return Number.isNaN(ms) ? text : new Date(ms).toISOString();
}

function encodeCursor(marker: string): string {
  return Buffer.from(`${CURSOR_PREFIX}${marker}`).toString('base64url');
}

function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString();
  if (!text.startsWith(CURSOR_PREFIX) || !/^[0-9a-f-]{36}$/.test(text.slice(CURSOR_PREFIX.length))) {
    throw new ApiError('VALIDATION_ERROR', 'The cursor is not one this API returned', {
      errors: [{ path: 'cursor', message: 'not a cursor returned by this API' }],
    });
  }
  return text.slice(CURSOR_PREFIX.length);
}
