import type { SettledListener, VmRecord } from '../../repository/vm-repository.js';
import type { VmStatus, VmTask } from '../../domain/vm.js';
import type { VolumeRecord, VolumeSettledListener } from '../../repository/volume-repository.js';
import type { VolumeStatus, VolumeTask } from '../../domain/volume.js';
import { waitFor } from '../../shared/wait-for.js';
import type { OpenStackTuning } from './tuning.js';

/** What a watcher reads of a record, and what it tells its listeners when the record settles. */
interface WatchedKind<R, Status, Task, Event> {
  busy(record: R): boolean;
  settledEvent(record: R, previous: Status, task: Task): Event;
}

/**
 * Follows the tasks this process started: re-reads a resource until it settles (which also drives
 * the reconciling calls when no client is polling), then tells the listeners. `close()` stops them.
 * One for VMs (Nova), one for volumes (Cinder): the clouds do not tell, so the API polls.
 */
export class TaskWatcher<R, Status, Task, Event> {
  private readonly listeners: ((event: Event) => void)[] = [];
  private readonly closing = new AbortController();

  constructor(
    private readonly tuning: Pick<OpenStackTuning, 'pollIntervalMs' | 'settleTimeoutMs'>,
    private readonly kind: WatchedKind<R, Status, Task, Event>,
  ) {}

  onSettled(listener: (event: Event) => void): void {
    this.listeners.push(listener);
  }

  /** Re-reads the record with `reread` until its task settles, then announces it (at once if settled). */
  watchWith(reread: () => Promise<R | undefined>, record: R, task: Task, previous: Status): void {
    if (!this.kind.busy(record)) {
      this.announce(record, previous, task);
      return;
    }
    let last: R | undefined = record;
    const read = async (): Promise<R | undefined> => {
      try {
        last = await reread();
      } catch {
        // A failed read is retried at the next interval; the last record stands meanwhile.
      }
      return last;
    };
    void waitFor(read, (r) => r === undefined || !this.kind.busy(r), {
      timeoutMs: this.tuning.settleTimeoutMs,
      intervalMs: this.tuning.pollIntervalMs,
      signal: this.closing.signal,
    }).then((settled) => {
      if (settled !== undefined && !this.kind.busy(settled)) this.announce(settled, previous, task);
    });
  }

  announce(record: R, previous: Status, task: Task): void {
    if (this.listeners.length === 0) return;
    const event = this.kind.settledEvent(record, previous, task);
    for (const listener of this.listeners) listener(event);
  }

  close(): void {
    this.closing.abort();
  }
}

type VmSettled = Parameters<SettledListener>[0];

/** Nova's servers, read by id. */
export class Watcher extends TaskWatcher<VmRecord, VmStatus, VmTask, VmSettled> {
  constructor(
    tuning: Pick<OpenStackTuning, 'pollIntervalMs' | 'settleTimeoutMs'>,
    private readonly read: (id: string) => Promise<VmRecord | undefined>,
  ) {
    super(tuning, { busy: (r) => r.vm.task !== null, settledEvent: (r, previous, task) => ({ vm: r.vm, previous, task }) });
  }

  watch(record: VmRecord, task: VmTask, previous: VmStatus): void {
    this.watchWith(() => this.read(record.vm.id), record, task, previous);
  }
}

type VolumeSettled = Parameters<VolumeSettledListener>[0];

/** Cinder's volumes; every read is scoped, so each watch says how to re-read its volume (`watchWith`). */
export function volumeWatcher(tuning: Pick<OpenStackTuning, 'pollIntervalMs' | 'settleTimeoutMs'>): TaskWatcher<VolumeRecord, VolumeStatus, VolumeTask, VolumeSettled> {
  return new TaskWatcher(tuning, {
    busy: (r) => r.volume.task !== null,
    settledEvent: (r, previous, task) => ({ volume: r.volume, previous, task }),
  });
}
