import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { ApiError } from '../domain/errors.js';
import type { Scope } from '../domain/tenancy.js';
import { volumeStatuses, type Volume, type VolumeStatus, type VolumeTask } from '../domain/volume.js';
import type { VmRepository } from '../repository/vm-repository.js';
import type { VolumeChanges, VolumeCommand, VolumePage, VolumeQuotaUsage, VolumeRecord, VolumeRepository } from '../repository/volume-repository.js';
import { InProcessState } from '../shared-state/in-process-state.js';
import type { SharedState } from '../shared-state/shared-state.js';
import { assertIfMatch, claimKeyOf, pageQueryOf, settled, underIdempotencyClaim, type ListRequestOf } from './versioned.js';
import type { ActionOptions, CallOptions } from './vm-service.js';

export interface CreateVolumeRequest {
  name: string;
  size_gb: number;
  description: string;
}

export type ListVolumesRequest = ListRequestOf<VolumeStatus>;

/**
 * What the service reports to the event stream (docs/contract.md section 11), as VmChange does for
 * VMs: a create it accepted, an action about to be applied, an action it accepted, a settle.
 */
export type VolumeChange =
  | { kind: 'created'; volume: Volume; requestId: string }
  | { kind: 'acting'; id: string; requestId: string }
  | { kind: 'accepted'; volume: Volume; previous: VolumeStatus; busyWith: VolumeTask | null; action: VolumeCommand['action']; requestId: string }
  | { kind: 'settled'; volume: Volume; previous: VolumeStatus; task: VolumeTask };

const listedByDefault = volumeStatuses.filter((s) => s !== 'DELETED');

/** VM statuses a volume may be attached in: any settled one but ERROR and DELETED. */
const attachableVmStatuses: ReadonlySet<string> = new Set(['STOPPED', 'RUNNING', 'PAUSED', 'SUSPENDED']);

/**
 * The rules of volumes (docs/contract.md section 10): If-Match, idempotency, waiting, and what an
 * attach asks of the VM. The volume's own state machine is the domain's `assertVolumeAllowed`,
 * which the backend applies to the freshest record; this knows the ports, never a backend.
 */
export class VolumeService {
  constructor(
    private readonly volumes: VolumeRepository,
    private readonly vms: Pick<VmRepository, 'get'>,
    private readonly log: Logger,
    private readonly shutdown: AbortSignal,
    private readonly claims: Pick<SharedState, 'claim' | 'release'> = new InProcessState(),
    private readonly onChange: (change: VolumeChange) => void = () => undefined,
  ) {
    volumes.onSettled(({ volume, previous, task }) => {
      this.log.info(
        { event: 'volume.settled', volume_id: volume.id, previous_status: previous, status: volume.status, task, fault: volume.fault ?? undefined },
        volume.status === 'ERROR' ? 'Volume failed' : `Volume ${task} done`,
      );
      this.onChange({ kind: 'settled', volume, previous, task });
    });
  }

  async create(scope: Scope, request: CreateVolumeRequest, options: CallOptions & { idempotencyKey?: string }): Promise<{ record: VolumeRecord; replayed: boolean }> {
    const key = options.idempotencyKey;
    if (key === undefined) return { record: await this.createNow(scope, request, options), replayed: false };
    return underIdempotencyClaim(this.claims, claimKeyOf(scope, key, 'volume:'), async () => {
      const fingerprint = createHash('sha256').update(JSON.stringify([request.name, request.size_gb, request.description])).digest('base64url');
      const earlier = await this.volumes.findByIdempotencyKey(scope, key);
      if (earlier) {
        if (earlier.fingerprint !== fingerprint) {
          throw new ApiError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request body');
        }
        return { record: await this.settle(scope, earlier.record, options), replayed: true };
      }
      return { record: await this.createNow(scope, request, options, { key, fingerprint }), replayed: false };
    });
  }

  async get(scope: Scope, id: string): Promise<VolumeRecord> {
    const record = await this.volumes.get(scope, id);
    if (!record) throw new ApiError('VOLUME_NOT_FOUND', `No volume with id ${id}`);
    return record;
  }

  async list(scope: Scope, request: ListVolumesRequest): Promise<VolumePage> {
    const query = pageQueryOf(scope, request, listedByDefault);
    return query ? this.volumes.list(scope, query) : { items: [], nextCursor: null };
  }

  /** The tenant's volume quotas (docs/contract.md sections 8 and 10): `volumes` and `gigabytes`. */
  async quotas(scope: Scope): Promise<VolumeQuotaUsage> {
    return this.volumes.quotaUsage(scope);
  }

  async update(scope: Scope, id: string, changes: VolumeChanges, options: Pick<ActionOptions, 'ifMatch'>): Promise<VolumeRecord> {
    const record = await this.volumes.update(scope, id, changes, (current) =>
      assertIfMatch(options.ifMatch, current.version, 'volume', { current_status: current.volume.status }),
    );
    this.log.info({ event: 'volume.updated', volume_id: id, tenant: record.volume.tenant }, 'Volume updated');
    return record;
  }

  async act(scope: Scope, id: string, command: VolumeCommand, options: ActionOptions): Promise<VolumeRecord> {
    let before: Volume | undefined;
    const record = await this.volumes.apply(scope, id, command, (current) => {
      before = current.volume;
      assertIfMatch(options.ifMatch, current.version, 'volume', { current_status: current.volume.status });
      this.onChange({ kind: 'acting', id, requestId: scope.requestId });
    });
    this.log.info(
      { event: 'volume.action_accepted', volume_id: id, tenant: record.volume.tenant, action: command.action, status: record.volume.status, task: record.volume.task },
      `Volume ${command.action} accepted`,
    );
    if (before) {
      const { status: previous, task: busyWith } = before;
      this.onChange({ kind: 'accepted', volume: record.volume, previous, busyWith, action: command.action, requestId: scope.requestId });
    }
    return this.settle(scope, record, options);
  }

  /** Attaches a volume to a VM of the scope's, which must be settled and neither ERROR nor DELETED. */
  async attach(scope: Scope, vmId: string, volumeId: string, device: string | null, options: ActionOptions): Promise<VolumeRecord> {
    const vm = (await this.vms.get(scope, vmId))?.vm;
    if (!vm) throw new ApiError('VM_NOT_FOUND', `No VM with id ${vmId}`);
    if (vm.task !== null) throw new ApiError('TASK_IN_PROGRESS', `The VM is busy ${vm.task}; attach when it settles`, { task: vm.task });
    if (!attachableVmStatuses.has(vm.status)) {
      throw new ApiError('INVALID_STATE_TRANSITION', `Cannot attach a volume to a VM that is ${vm.status}`, { current_status: vm.status });
    }
    return this.act(scope, volumeId, { action: 'attach', vmId, device }, options);
  }

  /** Detaches a volume from a VM; a volume not attached there is a 404, as an unknown one is. */
  async detach(scope: Scope, vmId: string, volumeId: string, options: ActionOptions): Promise<VolumeRecord> {
    if (!(await this.vms.get(scope, vmId))) throw new ApiError('VM_NOT_FOUND', `No VM with id ${vmId}`);
    return this.act(scope, volumeId, { action: 'detach', vmId }, options);
  }

  private async createNow(scope: Scope, request: CreateVolumeRequest, options: CallOptions, idempotency?: { key: string; fingerprint: string }): Promise<VolumeRecord> {
    const record = await this.volumes.create(scope, {
      name: request.name,
      description: request.description,
      sizeGb: request.size_gb,
      ...(idempotency && { idempotency }),
    });
    this.log.info(
      { event: 'volume.create_accepted', volume_id: record.volume.id, tenant: record.volume.tenant, size_gb: request.size_gb },
      'Volume create accepted',
    );
    this.onChange({ kind: 'created', volume: record.volume, requestId: scope.requestId });
    return this.settle(scope, record, options);
  }

  private settle(scope: Scope, record: VolumeRecord, options: CallOptions): Promise<VolumeRecord> {
    return settled(record, (r) => r.volume.task !== null, () => this.volumes.get(scope, record.volume.id), {
      waitMs: options.waitMs,
      intervalMs: this.volumes.pollIntervalMs,
      signal: this.shutdown,
    });
  }
}
