import type { Scope } from '../../domain/tenancy.js';
import type { VmActionEntry } from '../../domain/vm.js';

/** Entries kept per VM: enough for any history a person reads, bounded for a VM restarted forever. */
const MAX_ENTRIES = 100;

/**
 * Each VM's action history, oldest first, as Nova keeps instance actions. At most one entry per VM
 * is open (the running task); a new action while one is open closes it as `cancelled` (only a
 * delete can interrupt a task).
 */
export class ActionLog {
  private readonly byVm = new Map<string, VmActionEntry[]>();

  begin(vmId: string, action: VmActionEntry['action'], scope: Scope, at: string): void {
    let entries = this.byVm.get(vmId);
    if (!entries) {
      entries = [];
      this.byVm.set(vmId, entries);
    }
    this.finish(vmId, 'cancelled', at);
    entries.push({ action, request_id: scope.requestId, key_id: scope.keyId, started_at: at, finished_at: null, outcome: null });
    if (entries.length > MAX_ENTRIES) entries.shift();
  }

  /** Closes the open entry, if any. */
  finish(vmId: string, outcome: 'success' | 'error' | 'cancelled', at: string): void {
    const last = this.byVm.get(vmId)?.at(-1);
    if (last && last.outcome === null) {
      last.outcome = outcome;
      last.finished_at = at;
    }
  }

  /** Newest first, as copies. */
  list(vmId: string): VmActionEntry[] {
    return (this.byVm.get(vmId) ?? []).map((e) => ({ ...e })).reverse();
  }

  forget(vmId: string): void {
    this.byVm.delete(vmId);
  }
}
