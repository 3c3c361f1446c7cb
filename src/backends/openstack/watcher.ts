import type { SettledListener, VmRecord } from '../../repository/vm-repository.js';
import type { VmStatus, VmTask } from '../../domain/vm.js';
import { waitFor } from '../../shared/wait-for.js';
import type { OpenStackTuning } from './tuning.js';

/**
 * Follows the tasks this process started: re-reads a VM until it settles (which also drives the
 * reconciling calls when no client is polling), then tells the listeners. `close()` stops them.
 */
export class Watcher {
  private readonly listeners: SettledListener[] = [];
  private readonly closing = new AbortController();

  constructor(
    private readonly tuning: Pick<OpenStackTuning, 'pollIntervalMs' | 'settleTimeoutMs'>,
    private readonly read: (id: string) => Promise<VmRecord | undefined>,
  ) {}

  onSettled(listener: SettledListener): void {
    this.listeners.push(listener);
  }

  watch(record: VmRecord, task: VmTask, previous: VmStatus): void {
    if (record.vm.task === null) {
      this.announce(record, previous, task);
      return;
    }
    const id = record.vm.id;
    let last: VmRecord | undefined = record;
    const read = async (): Promise<VmRecord | undefined> => {
      try {
        last = await this.read(id);
      } catch {
        // A failed read is retried at the next interval; the last record stands meanwhile.
      }
      return last;
    };
    void waitFor(read, (r) => r === undefined || r.vm.task === null, {
      timeoutMs: this.tuning.settleTimeoutMs,
      intervalMs: this.tuning.pollIntervalMs,
      signal: this.closing.signal,
    }).then((settled) => {
      if (settled !== undefined && settled.vm.task === null) this.announce(settled, previous, task);
    });
  }

  announce(record: VmRecord, previous: VmStatus, task: VmTask): void {
    for (const listener of this.listeners) listener({ vm: record.vm, previous, task });
  }

  close(): void {
    this.closing.abort();
  }
}
