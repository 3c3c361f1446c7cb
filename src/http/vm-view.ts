import { actionsAllowedNow, type VmStanding } from '../domain/transitions.js';
import type { Vm, VmAction } from '../domain/vm.js';

/** A VM as the API shows it: what the backend holds, plus the actions it accepts now. */
export type VmView = Vm & { allowed_actions: VmAction[] };

/**
 * Derived at the edge, from the one transition table, rather than stored by the backends: the list
 * cannot go stale when a task starts or settles, and clients never need to repeat the table.
 */
export function vmView(record: VmStanding & { vm: Vm }): VmView {
  return { ...record.vm, allowed_actions: actionsAllowedNow(record) };
}
