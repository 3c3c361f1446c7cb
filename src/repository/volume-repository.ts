import type { Scope } from '../domain/tenancy.js';
import type { Volume, VolumeStatus, VolumeTask } from '../domain/volume.js';
import type { IdempotencyClaim } from './vm-repository.js';

/**
 * The volumes' port (docs/contract.md section 10), which both backends implement, in the domain's
 * words only (no Cinder vocabulary). It has the VM port's shape: every call takes the caller's
 * Scope first and answers only within it (another tenant's volume is one that does not exist), a
 * volume it returns may still have a `task` in progress, and refusals are ApiErrors
 * (VOLUME_NOT_FOUND, QUOTA_EXCEEDED, TASK_IN_PROGRESS, RESOURCE_IN_USE, ...).
 */

export interface VolumeRecord {
  volume: Volume;
  /** Changes whenever the volume changes; the HTTP layer quotes it as the ETag. */
  version: string;
}

export interface CreateVolumeInput {
  name: string;
  description: string;
  sizeGb: number;
  idempotency?: IdempotencyClaim;
}

export interface ListVolumesQuery {
  /** Which statuses to list; never empty. */
  statuses: readonly VolumeStatus[];
  name?: { value: string; prefix: boolean };
  limit: number;
  /** An admin's `?tenant=`. */
  tenant?: string;
  cursor?: string;
}

export interface VolumePage {
  items: VolumeRecord[];
  nextCursor: string | null;
}

/** What a request asks of a volume; the VM of an attach has been judged by the service already. */
export type VolumeCommand =
  | { action: 'extend'; sizeGb: number }
  | { action: 'attach'; vmId: string; device: string | null }
  /** Refused with VOLUME_NOT_FOUND unless the volume is attached to `vmId`. */
  | { action: 'detach'; vmId: string }
  | { action: 'delete' };

export interface VolumeChanges {
  name?: string;
  description?: string;
}

/** Called with the freshest record just before the backend acts; throws to refuse (If-Match). */
export type VolumeGuard = (current: VolumeRecord) => void;

export type VolumeSettledListener = (event: { volume: Volume; previous: VolumeStatus; task: VolumeTask }) => void;

export type VolumeQuotaUsage = Record<'volumes' | 'gigabytes', { limit: number; used: number }>;

export interface VolumeRepository {
  /** How often a waiter should re-read a volume with a task in progress. */
  readonly pollIntervalMs: number;

  create(scope: Scope, input: CreateVolumeInput): Promise<VolumeRecord>;
  get(scope: Scope, id: string): Promise<VolumeRecord | undefined>;
  list(scope: Scope, query: ListVolumesQuery): Promise<VolumePage>;
  /** Renames or redescribes; no task, no status change. */
  update(scope: Scope, id: string, changes: VolumeChanges, guard: VolumeGuard): Promise<VolumeRecord>;
  /** Starts `command` once `guard` and then the volume's state machine (assertVolumeAllowed) accept it. */
  apply(scope: Scope, id: string, command: VolumeCommand, guard: VolumeGuard): Promise<VolumeRecord>;
  findByIdempotencyKey(scope: Scope, key: string): Promise<{ record: VolumeRecord; fingerprint: string } | undefined>;
  quotaUsage(scope: Scope): Promise<VolumeQuotaUsage>;
  /** Whether a tenant owns any volume, deleted ones still answered for included. */
  tenantOwnsVolumes(tenant: string): Promise<boolean>;
  onSettled(listener: VolumeSettledListener): void;
}
