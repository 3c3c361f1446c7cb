import type { VmStatus, VmTask } from '../../domain/vm.js';

/**
 * How a Nova `status` reads as the contract's status and task. `status: 'power'` means "the last
 * settled state": Nova keeps RESIZE/VERIFY_RESIZE for running and stopped servers alike, and only
 * `OS-EXT-STS:power_state` (4 = shut down) tells which one it was.
 */
export interface NovaStatusReading {
  status: VmStatus | 'power';
  task: VmTask | null;
}

/**
 * Nova's server statuses (api-ref "Server Status"), as data: the code, the generated unit tests
 * and the table in ARCHITECTURE.md all read this one object. A status not listed here (RESCUE,
 * SHELVED, REBUILD, ...) is one this API cannot act on: it reads as ERROR with a fault.
 */
export const novaStatusToVm: Readonly<Record<string, NovaStatusReading>> = {
  ACTIVE: { status: 'RUNNING', task: null },
  SHUTOFF: { status: 'STOPPED', task: null },
  PAUSED: { status: 'PAUSED', task: null },
  SUSPENDED: { status: 'SUSPENDED', task: null },
  ERROR: { status: 'ERROR', task: null },
  DELETED: { status: 'DELETED', task: null },
  SOFT_DELETED: { status: 'DELETED', task: null },
  // A new VM settles STOPPED unless asked to start (docs/contract.md section 2): STOPPED until it has.
  BUILD: { status: 'STOPPED', task: 'creating' },
  REBOOT: { status: 'RUNNING', task: 'restarting' },
  HARD_REBOOT: { status: 'RUNNING', task: 'restarting' },
  RESIZE: { status: 'power', task: 'resizing' },
  // The adapter confirms every resize itself: until it has, the resize is still running.
  VERIFY_RESIZE: { status: 'power', task: 'resizing' },
  REVERT_RESIZE: { status: 'power', task: 'resizing' },
};

/**
 * Nova's `OS-EXT-STS:task_state` while an action runs. Stop, start, pause, unpause, suspend and
 * resume keep the old `status` meanwhile, so this, not the status, says that work is under way.
 * A task state not listed here (image snapshots, migrations, ...) is not one of ours: the VM reads
 * as settled, and Nova's own 409 refuses actions until it finishes.
 */
export const novaTaskStateToTask: Readonly<Record<string, VmTask>> = {
  scheduling: 'creating',
  block_device_mapping: 'creating',
  networking: 'creating',
  spawning: 'creating',
  'powering-off': 'stopping',
  'powering-on': 'starting',
  rebooting: 'restarting',
  reboot_pending: 'restarting',
  reboot_started: 'restarting',
  rebooting_hard: 'restarting',
  reboot_pending_hard: 'restarting',
  reboot_started_hard: 'restarting',
  pausing: 'pausing',
  unpausing: 'resuming',
  suspending: 'suspending',
  resuming: 'resuming',
  resize_prep: 'resizing',
  resize_migrating: 'resizing',
  resize_migrated: 'resizing',
  resize_finish: 'resizing',
  resize_reverting: 'resizing',
  resize_confirming: 'resizing',
  deleting: 'deleting',
  'soft-deleting': 'deleting',
};

/** Nova's power_state for a server that is shut down. */
export const POWER_SHUTDOWN = 4;

export interface NovaState {
  status: string;
  taskState: string | null;
  powerState: number;
}

/** The contract's status and task for a Nova state; `known: false` for a status not in the table. */
export function readNovaState(state: NovaState): { status: VmStatus; task: VmTask | null; known: boolean } {
  const reading = own(novaStatusToVm, state.status);
  if (reading === undefined) return { status: 'ERROR', task: null, known: false };
  const status = reading.status === 'power' ? (state.powerState === POWER_SHUTDOWN ? 'STOPPED' : 'RUNNING') : reading.status;
  const task = (state.taskState === null ? undefined : own(novaTaskStateToTask, state.taskState)) ?? reading.task;
  return { status, task, known: true };
}

/** A table lookup that a word such as "constructor" cannot turn into Object.prototype's member. */
function own<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
