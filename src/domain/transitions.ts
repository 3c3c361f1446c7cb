import type { VmAction, VmStatus, VmTask } from './vm.js';

export interface Transition {
  /** The task shown while the action runs. */
  task: VmTask;
  /** The status the VM settles in. */
  next: VmStatus;
  /** Only `{"type":"hard"}` restarts are accepted. */
  hardOnly?: true;
  /** Only a VM that was placed on a host (never one that failed scheduling) may take it. */
  placedOnly?: true;
}

/**
 * The state machine of CONTRACT section 2, as data: the service, the tests (which generate their
 * cases from it) and the diagram in ARCHITECTURE.md all read this one table.
 */
export const transitions: Readonly<Record<VmStatus, Readonly<Partial<Record<VmAction, Transition>>>>> = {
  STOPPED: {
    start: { task: 'starting', next: 'RUNNING' },
    resize: { task: 'resizing', next: 'STOPPED' },
    delete: { task: 'deleting', next: 'DELETED' },
  },
  RUNNING: {
    stop: { task: 'stopping', next: 'STOPPED' },
    restart: { task: 'restarting', next: 'RUNNING' },
    pause: { task: 'pausing', next: 'PAUSED' },
    suspend: { task: 'suspending', next: 'SUSPENDED' },
    resize: { task: 'resizing', next: 'RUNNING' },
    delete: { task: 'deleting', next: 'DELETED' },
  },
  PAUSED: {
    resume: { task: 'resuming', next: 'RUNNING' },
    stop: { task: 'stopping', next: 'STOPPED' },
    delete: { task: 'deleting', next: 'DELETED' },
  },
  SUSPENDED: {
    resume: { task: 'resuming', next: 'RUNNING' },
    delete: { task: 'deleting', next: 'DELETED' },
  },
  ERROR: {
    restart: { task: 'restarting', next: 'RUNNING', hardOnly: true, placedOnly: true },
    delete: { task: 'deleting', next: 'DELETED' },
  },
  DELETED: {},
};

/** The actions a settled VM in `status` accepts; a VM that was never placed accepts no placed-only one. */
export function allowedActions(status: VmStatus, placed: boolean): VmAction[] {
  return Object.entries(transitions[status])
    .filter(([, t]) => placed || !t.placedOnly)
    .map(([action]) => action as VmAction);
}
