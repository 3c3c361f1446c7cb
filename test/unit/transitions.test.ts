import { describe, expect, it } from 'vitest';
import type { VmRecord } from '../../src/repository/vm-repository.js';
import { ApiError } from '../../src/domain/errors.js';
import { actionsAllowedNow, allowedActions, assertAllowed, transitions } from '../../src/domain/transitions.js';
import {
  restartTypes,
  vmActions,
  vmStatuses,
  vmTasks,
  type Flavor,
  type VmCommand,
  type RestartType,
  type VmAction,
  type VmStatus,
  type VmTask,
} from '../../src/domain/vm.js';

/**
 * docs/contract.md section 2, copied once as the oracle: `current action next [note]`. The cases below are
 * generated from vmStatuses x vmActions, so a pair missing here is checked as "not allowed".
 */
const contractTable = `
STOPPED   start    RUNNING
STOPPED   delete   DELETED
STOPPED   resize   STOPPED
RUNNING   stop     STOPPED
RUNNING   restart  RUNNING
RUNNING   pause    PAUSED
RUNNING   suspend  SUSPENDED
RUNNING   resize   RUNNING
RUNNING   delete   DELETED
PAUSED    resume   RUNNING
PAUSED    stop     STOPPED
PAUSED    delete   DELETED
SUSPENDED resume   RUNNING
SUSPENDED delete   DELETED
ERROR     delete   DELETED
ERROR     restart  RUNNING   hard-and-placed-only
`;

interface OracleRow {
  next: VmStatus;
  hardAndPlacedOnly: boolean;
}

const oracle = new Map<string, OracleRow>(
  contractTable
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .map(([current, action, next, note]) => [`${current} ${action}`, { next: next as VmStatus, hardAndPlacedOnly: note === 'hard-and-placed-only' }]),
);

/** docs/contract.md section 1: the task word shown while each action runs. */
const taskOfAction: Record<VmAction, VmTask> = {
  start: 'starting',
  stop: 'stopping',
  restart: 'restarting',
  pause: 'pausing',
  resume: 'resuming',
  suspend: 'suspending',
  resize: 'resizing',
  delete: 'deleting',
};

const row = (status: VmStatus, action: VmAction) => oracle.get(`${status} ${action}`);

/** What the contract allows from a settled VM, in no particular order. */
function expectedAllowed(status: VmStatus, placed: boolean): VmAction[] {
  return vmActions.filter((action) => {
    const r = row(status, action);
    return r !== undefined && (placed || !r.hardAndPlacedOnly);
  });
}

const pairs = vmStatuses.flatMap((status) => vmActions.map((action) => ({ status, action })));

describe('the transition table', () => {
  it('the oracle itself is the 16 rows of the contract and names only known words', () => {
    expect(oracle.size).toBe(16);
    for (const key of oracle.keys()) {
      const [status, action] = key.split(' ');
      expect(vmStatuses).toContain(status);
      expect(vmActions).toContain(action);
    }
  });

  it.each(pairs)('$status + $action matches the contract (next status, or no transition)', ({ status, action }) => {
    const expected = row(status, action);
    const actual = transitions[status][action];
    if (expected === undefined) {
      expect(actual).toBeUndefined();
      return;
    }
    expect(actual).toBeDefined();
    expect(actual?.next).toBe(expected.next);
    expect(actual?.task).toBe(taskOfAction[action]);
    expect(vmTasks).toContain(actual?.task);
    expect(actual?.hardOnly === true).toBe(expected.hardAndPlacedOnly);
    expect(actual?.placedOnly === true).toBe(expected.hardAndPlacedOnly);
  });

  it('has no status key beyond the six statuses of the contract', () => {
    expect(Object.keys(transitions).sort()).toEqual([...vmStatuses].sort());
  });

  it('DELETED allows no action at all', () => {
    expect(Object.keys(transitions.DELETED)).toEqual([]);
  });
});

describe('allowedActions', () => {
  const cases = vmStatuses.flatMap((status) => [true, false].map((placed) => ({ status, placed })));

  it.each(cases)('for a $status VM (placed: $placed) lists exactly the contract actions', ({ status, placed }) => {
    expect([...allowedActions(status, placed)].sort()).toEqual(expectedAllowed(status, placed).sort());
  });

  it('an ERROR VM that was never placed may only be deleted', () => {
    expect(allowedActions('ERROR', false)).toEqual(['delete']);
  });

  it('an ERROR VM that was placed may be restarted or deleted', () => {
    expect([...allowedActions('ERROR', true)].sort()).toEqual(['delete', 'restart']);
  });

  it('placement changes nothing for the statuses without a placed-only action', () => {
    for (const status of vmStatuses.filter((s) => s !== 'ERROR')) {
      expect(allowedActions(status, false)).toEqual(allowedActions(status, true));
    }
  });
});

const flavor = (name: string): Flavor => ({ id: name, name, vcpus: 1, ram_mb: 512, disk_gb: 1 });
const currentFlavor = flavor('m1.small');
const otherFlavor = flavor('m1.medium');

function record(status: VmStatus, task: VmTask | null, placed: boolean): VmRecord {
  return {
    vm: {
      id: '00000000-0000-4000-8000-000000000001',
      name: 'vm',
      flavor: currentFlavor.name,
      image: 'cirros-0.6',
      status,
      task,
      ip_address: placed ? '10.0.0.2' : null,
      fault: status === 'ERROR' ? { code: 'X', message: 'x', at: '2026-01-01T00:00:00.000Z' } : null,
      created_at: '2026-01-01T00:00:00.000Z',
      updated_at: '2026-01-01T00:00:00.000Z',
      networks: [],
      floating_ip: null,
      tenant: 'default',
      security_groups: [],
      volumes: [],
    },
    version: '1',
    placed,
  };
}

function commandFor(action: VmAction, type: RestartType): VmCommand {
  if (action === 'restart') return { action, type };
  if (action === 'resize') return { action, flavor: otherFlavor };
  return { action };
}

type Verdict =
  | { ok: true }
  | { ok: false; code: 'INVALID_STATE_TRANSITION' | 'TASK_IN_PROGRESS'; allowed: VmAction[] };

/** What the VM accepts now by the contract: while a task runs, only delete (where its status allows it). */
function expectedNow(status: VmStatus, task: VmTask | null, placed: boolean): VmAction[] {
  const settled = expectedAllowed(status, placed);
  return task === null ? settled : settled.filter((a) => a === 'delete');
}

/**
 * The contract's verdict, derived from the oracle and the rules of section 2, not from the code: a
 * busy VM answers TASK_IN_PROGRESS before any state check, and every refusal lists what is allowed now.
 */
function expectedVerdict(status: VmStatus, action: VmAction, task: VmTask | null, placed: boolean, type: RestartType): Verdict {
  const r = row(status, action);
  const allowed = expectedNow(status, task, placed);
  if (task !== null && action !== 'delete') return { ok: false, code: 'TASK_IN_PROGRESS', allowed };
  if (r === undefined) return { ok: false, code: 'INVALID_STATE_TRANSITION', allowed };
  if (action === 'delete') return { ok: true };
  if (r.hardAndPlacedOnly && (!placed || type !== 'hard')) return { ok: false, code: 'INVALID_STATE_TRANSITION', allowed };
  return { ok: true };
}

function outcome(fn: () => void): ApiError | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
}

describe('assertAllowed', () => {
  // Restart type only matters for restart; every other action is generated once.
  const cases = vmStatuses.flatMap((status) =>
    vmActions.flatMap((action) =>
      (action === 'restart' ? restartTypes : (['soft'] as const)).flatMap((type) =>
        ([null, 'starting'] as const).flatMap((task) =>
          [true, false].map((placed) => ({ status, action, type, task, placed, busy: task !== null })),
        ),
      ),
    ),
  );

  it('generates every status x action x task x placement (x restart type) case', () => {
    expect(cases).toHaveLength(vmStatuses.length * (vmActions.length + 1) * 2 * 2);
  });

  it.each(cases)(
    '$status + $action (type $type, busy: $busy, placed: $placed) follows the contract',
    ({ status, action, type, task, placed }) => {
      const verdict = expectedVerdict(status, action, task, placed, type);
      let transition: unknown;
      const error = outcome(() => {
        transition = assertAllowed(record(status, task, placed), commandFor(action, type));
      });
      if (verdict.ok) {
        expect(error).toBeUndefined();
        expect(transition).toBe(transitions[status][action]);
        return;
      }
      expect(error?.code).toBe(verdict.code);
      expect(error?.extras.current_status).toBe(status);
      expect([...(error?.extras.allowed_actions ?? [])].sort()).toEqual([...verdict.allowed].sort());
      if (verdict.code === 'TASK_IN_PROGRESS') expect(error?.extras.task).toBe(task);
    },
  );

  it('a stop while a STOPPED VM is starting is TASK_IN_PROGRESS allowing only delete, not a state refusal', () => {
    const error = outcome(() => assertAllowed(record('STOPPED', 'starting', true), { action: 'stop' }));
    expect(error?.code).toBe('TASK_IN_PROGRESS');
    expect(error?.extras).toMatchObject({ current_status: 'STOPPED', task: 'starting', allowed_actions: ['delete'] });
  });

  it('every action a refusal lists is one that assertAllowed then accepts (for some restart type)', () => {
    for (const status of vmStatuses) {
      for (const task of [null, ...vmTasks]) {
        for (const placed of [true, false]) {
          for (const action of vmActions) {
            const error = outcome(() => assertAllowed(record(status, task, placed), commandFor(action, 'soft')));
            for (const listed of error?.extras.allowed_actions ?? []) {
              const accepted = (['soft', 'hard'] as const).some(
                (type) => outcome(() => assertAllowed(record(status, task, placed), commandFor(listed as VmAction, type))) === undefined,
              );
              expect(accepted, `${status}/${String(task)}/placed ${placed}: ${action} refused, listing ${listed}`).toBe(true);
            }
          }
        }
      }
    }
  });

  it.each(vmStatuses.filter((s) => s !== 'DELETED'))('delete from %s is accepted even while a task runs', (status) => {
    for (const task of vmTasks) {
      for (const placed of [true, false]) {
        expect(() => assertAllowed(record(status, task, placed), { action: 'delete' })).not.toThrow();
      }
    }
  });

  it('delete from DELETED is a 409 naming DELETED and no allowed action', () => {
    const error = outcome(() => assertAllowed(record('DELETED', null, true), { action: 'delete' }));
    expect(error?.code).toBe('INVALID_STATE_TRANSITION');
    expect(error?.extras).toMatchObject({ current_status: 'DELETED', allowed_actions: [] });
  });

  it('the refusal says which action and which status in its detail', () => {
    const error = outcome(() => assertAllowed(record('STOPPED', null, true), { action: 'pause' }));
    expect(error?.detail).toContain('pause');
    expect(error?.detail).toContain('STOPPED');
  });

  it('a soft restart of a placed ERROR VM is refused and says hard is needed', () => {
    const error = outcome(() => assertAllowed(record('ERROR', null, true), { action: 'restart', type: 'soft' }));
    expect(error?.code).toBe('INVALID_STATE_TRANSITION');
    expect(error?.detail).toContain('"type":"hard"');
    expect([...(error?.extras.allowed_actions ?? [])].sort()).toEqual(['delete', 'restart']);
  });

  it('a hard restart of an ERROR VM that was never placed is refused and says it can only be deleted', () => {
    const error = outcome(() => assertAllowed(record('ERROR', null, false), { action: 'restart', type: 'hard' }));
    expect(error?.code).toBe('INVALID_STATE_TRANSITION');
    expect(error?.detail).toMatch(/never placed/);
    expect(error?.extras.allowed_actions).toEqual(['delete']);
  });

  it.each(['STOPPED', 'RUNNING'] as const)('resizing a %s VM to the flavor it already has is a VALIDATION_ERROR on flavor', (status) => {
    const error = outcome(() =>
      assertAllowed(record(status, null, true), { action: 'resize', flavor: currentFlavor }),
    );
    expect(error?.code).toBe('VALIDATION_ERROR');
    expect(error?.extras.errors?.map((e) => e.path)).toEqual(['flavor']);
  });

  it('resizing to the same flavor while a task runs is TASK_IN_PROGRESS, not a validation error', () => {
    const error = outcome(() =>
      assertAllowed(record('RUNNING', 'stopping', true), { action: 'resize', flavor: currentFlavor }),
    );
    expect(error?.code).toBe('TASK_IN_PROGRESS');
  });
});

describe('actionsAllowedNow', () => {
  const cases = vmStatuses.flatMap((status) => ([null, ...vmTasks] as const).flatMap((task) => [true, false].map((placed) => ({ status, task, placed }))));

  it.each(cases)('a $status VM (task $task, placed: $placed) lists what the contract allows now', ({ status, task, placed }) => {
    expect([...actionsAllowedNow(record(status, task, placed))].sort()).toEqual(expectedNow(status, task, placed).sort());
  });
});
