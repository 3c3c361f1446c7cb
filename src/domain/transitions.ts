import { ApiError } from './errors.js';
import type { Vm, VmAction, VmCommand, VmStatus, VmTask } from './vm.js';

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
 * The state machine of docs/contract.md section 2, as data: `assertAllowed` below, the tests (which
 * generate their cases from it) and the diagrams in ARCHITECTURE.md and docs/contract.md read it.
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

/** The statuses `action` leaves from, in the table's order, each with its transition. */
export function statusesAllowing(action: VmAction): { status: VmStatus; transition: Transition }[] {
  return (Object.entries(transitions) as [VmStatus, Partial<Record<VmAction, Transition>>][]).flatMap(([status, row]) => {
    const transition = row[action];
    return transition ? [{ status, transition }] : [];
  });
}

/** What the rule needs to know of a VM (a repository's record has it). */
export interface VmStanding {
  vm: Pick<Vm, 'status' | 'task' | 'flavor'>;
  /** Whether the VM was ever placed on a host (a VM that failed scheduling was not). */
  placed: boolean;
}

/** Per status, the lists `actionsAllowedNow` answers, made once: every VM the API shows needs one. */
const allowedLists = Object.fromEntries(
  (Object.keys(transitions) as VmStatus[]).map((status) => {
    const placed = Object.freeze(allowedActions(status, true));
    return [
      status,
      {
        placed,
        unplaced: Object.freeze(allowedActions(status, false)),
        busy: Object.freeze(placed.filter((action) => action === 'delete')),
      },
    ];
  }),
) as Record<VmStatus, { placed: readonly VmAction[]; unplaced: readonly VmAction[]; busy: readonly VmAction[] }>;

/** The actions the VM accepts now: while a task runs, only delete (where its status allows one). */
export function actionsAllowedNow({ vm, placed }: VmStanding): readonly VmAction[] {
  const lists = allowedLists[vm.status];
  if (vm.task !== null) return lists.busy;
  return placed ? lists.placed : lists.unplaced;
}

/**
 * The state machine's verdict on `command` for the VM as it is now: the transition to carry out,
 * or the 409 that explains the refusal. A busy VM answers TASK_IN_PROGRESS before any state check,
 * and every refusal's `allowed_actions` is what the VM accepts now. Backends call this at the
 * moment they act; nothing else restates the table.
 */
export function assertAllowed(current: VmStanding, command: VmCommand): Transition {
  const { vm } = current;
  const allowedNow = actionsAllowedNow(current);
  if (vm.task !== null && command.action !== 'delete') {
    throw new ApiError('TASK_IN_PROGRESS', `The VM is busy ${vm.task}; only delete is accepted until it settles`, {
      current_status: vm.status,
      task: vm.task,
      allowed_actions: allowedNow,
    });
  }
  const refuse = (detail: string): never => {
    throw new ApiError('INVALID_STATE_TRANSITION', detail, { current_status: vm.status, allowed_actions: allowedNow });
  };
  const transition = transitions[vm.status][command.action] ?? refuse(`Cannot ${command.action} a VM that is ${vm.status}`);
  if (transition.placedOnly && !current.placed) {
    refuse(`Cannot ${command.action} a VM in ${vm.status} that was never placed on a host; it can only be deleted`);
  }
  if (transition.hardOnly && command.action === 'restart' && command.type !== 'hard') {
    refuse(`A VM in ${vm.status} can only be restarted with {"type":"hard"}`);
  }
  if (command.action === 'resize' && command.flavor.name === vm.flavor) {
    throw new ApiError('VALIDATION_ERROR', `The VM already has flavor ${vm.flavor}`, {
      errors: [{ path: 'flavor', message: `already ${vm.flavor}; name another flavor` }],
    });
  }
  return transition;
}
