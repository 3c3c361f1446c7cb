import { ApiError } from './errors.js';

/** The volume resource as the API shows it (docs/contract.md section 10), and the words it is made of. */

export const volumeStatuses = ['AVAILABLE', 'IN_USE', 'ERROR', 'DELETED'] as const;
export type VolumeStatus = (typeof volumeStatuses)[number];

export const volumeTasks = ['creating', 'attaching', 'detaching', 'extending', 'deleting'] as const;
export type VolumeTask = (typeof volumeTasks)[number];

export const volumeActions = ['extend', 'attach', 'detach', 'delete'] as const;
export type VolumeAction = (typeof volumeActions)[number];

/** Sizes are whole gibibytes in this range (Cinder's own upper bound is the backend's; this is the API's). */
export const MIN_VOLUME_GB = 1;
export const MAX_VOLUME_GB = 16_384;

export interface VolumeFault {
  /** A stable machine word, e.g. STORAGE_FULL. */
  code: string;
  message: string;
  at: string;
}

export interface VolumeAttachment {
  vm_id: string;
  /** The device name the VM sees, e.g. /dev/vdb; null where the cloud does not say. */
  device: string | null;
}

export interface Volume {
  id: string;
  name: string;
  description: string;
  size_gb: number;
  status: VolumeStatus;
  task: VolumeTask | null;
  attached_to: VolumeAttachment | null;
  fault: VolumeFault | null;
  tenant: string;
  created_at: string;
  updated_at: string;
}

/** A volume as a VM lists it (`volumes` of the VM resource). */
export interface VmVolume {
  id: string;
  device: string | null;
}

/** A data disk asked for with a VM: a new volume made and attached as the VM is created. */
export interface DataDisk {
  size_gb: number;
  delete_on_termination: boolean;
}

export interface VolumeTransition {
  task: VolumeTask;
  next: VolumeStatus;
}

/**
 * The volume's state machine as data, as src/domain/transitions.ts is the VM's: `assertVolumeAllowed`
 * below is the only code that judges an action against it, and `allowed_actions` is read from it.
 * An extend keeps the status; attach and detach move between AVAILABLE and IN_USE.
 */
export const volumeTransitions: Readonly<Record<VolumeStatus, Readonly<Partial<Record<VolumeAction, VolumeTransition>>>>> = {
  AVAILABLE: {
    extend: { task: 'extending', next: 'AVAILABLE' },
    attach: { task: 'attaching', next: 'IN_USE' },
    delete: { task: 'deleting', next: 'DELETED' },
  },
  IN_USE: {
    extend: { task: 'extending', next: 'IN_USE' },
    detach: { task: 'detaching', next: 'AVAILABLE' },
  },
  ERROR: {
    delete: { task: 'deleting', next: 'DELETED' },
  },
  DELETED: {},
};

/** The actions a volume accepts now: none while a task runs (a delete during a delete aside), else its row. */
export function volumeActionsAllowedNow(volume: Pick<Volume, 'status' | 'task'>): VolumeAction[] {
  if (volume.task !== null) return [];
  return Object.keys(volumeTransitions[volume.status]) as VolumeAction[];
}

/**
 * Judges `action` against the volume as it is: a task in progress is 409 TASK_IN_PROGRESS, a delete
 * of an attached volume 409 RESOURCE_IN_USE, any other pair not in the table 409
 * INVALID_STATE_TRANSITION. Returns the transition to run.
 */
export function assertVolumeAllowed(volume: Pick<Volume, 'id' | 'status' | 'task'>, action: VolumeAction): VolumeTransition {
  if (volume.task !== null) {
    throw new ApiError('TASK_IN_PROGRESS', `The volume is busy ${volume.task}; retry when it settles`, { task: volume.task });
  }
  const transition = volumeTransitions[volume.status][action];
  if (transition) return transition;
  if (volume.status === 'IN_USE' && (action === 'delete' || action === 'attach')) {
    throw new ApiError('RESOURCE_IN_USE', `Volume ${volume.id} is attached to a VM; detach it first`);
  }
  throw new ApiError('INVALID_STATE_TRANSITION', `Cannot ${action} a volume that is ${volume.status}`, {
    current_status: volume.status,
    allowed_actions: volumeActionsAllowedNow(volume),
  });
}
