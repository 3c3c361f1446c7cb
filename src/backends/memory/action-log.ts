import type { Scope } from '../../domain/tenancy.js';
import type { VmActionEntry } from '../../domain/vm.js';

/** Entries kept per VM: enough for any history a person reads, bounded for a VM restarted forever. */
const MAX_ENTRIES = 100;

/**
 * Each VM's action history, oldest first, as Nova keeps instance actions. At most one entry per VM
 * is open (the running task); a new action while one is open closes it as `cancelled` (only a
 * delete can interrupt a task).
 *
 * Most VMs only ever have their create entry, so a lone entry is kept as itself and an array is
 * made only at the second action: that saves the array (~60 bytes a VM) and keeps the memory
 * backend under 1 KiB of heap per VM (`npm run bench`).
 */
export class ActionLog {
  private readonly byVm = new Map<string, VmActionEntry | VmActionEntry[]>();

  begin(vmId: string, action: VmActionEntry['action'], scope: Scope, at: string): void {
    this.finish(vmId, 'cancelled', at);
    const entry: VmActionEntry = { action, request_id: scope.requestId, key_id: scope.keyId, started_at: at, finished_at: null, outcome: null };
    const held = this.byVm.get(vmId);
    if (held === undefined) {
      this.byVm.set(vmId, entry);
    } else if (Array.isArray(held)) {
      held.push(entry);
      if (held.length > MAX_ENTRIES) held.shift();
    } else {
      this.byVm.set(vmId, [held, entry]);
    }
  }

  /** Closes the open entry, if any. */
  finish(vmId: string, outcome: 'success' | 'error' | 'cancelled', at: string): void {
    const held = this.byVm.get(vmId);
    const last = Array.isArray(held) ? held.at(-1) : held;
    if (last && last.outcome === null) {
      last.outcome = outcome;
      last.finished_at = at;
    }
  }

  /** Newest first, as copies. */
  list(vmId: string): VmActionEntry[] {
    const held = this.byVm.get(vmId);
    if (held === undefined) return [];
    return Array.isArray(held) ? held.map((e) => ({ ...e })).reverse() : [{ ...held }];
  }

  forget(vmId: string): void {
    this.byVm.delete(vmId);
  }
}
