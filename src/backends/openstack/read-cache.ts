import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import { OpenStackHttpError, type CallOptions, type Connection, type Server } from '../../openstack/index.js';
import type { VmRecord } from '../../repository/vm-repository.js';
import type { DeletedServers } from './deleted-servers.js';
import type { Reconciler } from './reconciler.js';
import type { OpenStackTuning } from './tuning.js';
import { upstream } from './upstream-call.js';

export interface ReadCacheOptions {
  connection: Connection;
  reconciler: Reconciler;
  deleted: DeletedServers;
  log: Logger;
  tuning: Pick<OpenStackTuning, 'readReuseMs' | 'pollIntervalMs' | 'youngServerMs'>;
  now: () => number;
}

/** How often a young server's 404 is asked again before it counts (see `expectLive`). */
const YOUNG_RETRIES = 3;

/**
 * Reads of one VM: GET of the server, reconciled, or a lookup among the deleted when Nova no
 * longer has it. Recent reads are shared by the pollers of this process (clients poll every few
 * tens of ms; Nova need not answer each one); commands read afresh and replace the entry.
 */
export class ReadCache {
  private readonly connection: Connection;
  private readonly reconciler: Reconciler;
  private readonly deleted: DeletedServers;
  private readonly log: Logger;
  private readonly tuning: Pick<OpenStackTuning, 'readReuseMs' | 'pollIntervalMs' | 'youngServerMs'>;
  private readonly now: () => number;
  private readonly recent = new Map<string, { at: number; value: Promise<VmRecord | undefined> }>();
  /** Servers this process made, until when a 404 for them is asked again; oldest first. */
  private readonly young = new Map<string, number>();

  constructor(options: ReadCacheOptions) {
    this.connection = options.connection;
    this.reconciler = options.reconciler;
    this.deleted = options.deleted;
    this.log = options.log;
    this.tuning = options.tuning;
    this.now = options.now;
  }

  /** A recent read within readReuseMs, or a fresh one. */
  get(id: string): Promise<VmRecord | undefined> {
    const recent = this.recent.get(id);
    if (recent && this.now() - recent.at < this.tuning.readReuseMs) return recent.value;
    return this.fresh(id, {});
  }

  /** A read that later get()s within readReuseMs share. */
  fresh(id: string, options: CallOptions): Promise<VmRecord | undefined> {
    const value = this.read(id, options);
    const entry = { at: this.now(), value };
    this.recent.set(id, entry);
    const forget = () => {
      if (this.recent.get(id) === entry) this.recent.delete(id);
    };
    value.then(() => setTimeout(forget, this.tuning.readReuseMs).unref(), forget);
    return value;
  }

  forget(id: string): void {
    this.recent.delete(id);
  }

  /**
   * A server this process just made. Nova answers 404 for a moment while it moves a server no host
   * took into cell0 (the build request is gone before the instance can be found), so for a while
   * a 404 for it is asked again before the VM counts as gone (seen on the local cloud: a new VM
   * in ERROR answered 404 once).
   */
  expectLive(id: string): void {
    const now = this.now();
    for (const [old, until] of this.young) {
      if (until > now) break;
      this.young.delete(old);
    }
    this.young.set(id, now + this.tuning.youngServerMs);
  }

  private isYoung(id: string): boolean {
    return (this.young.get(id) ?? 0) > this.now();
  }

  private async read(id: string, options: CallOptions): Promise<VmRecord | undefined> {
    const remembered = this.deleted.remembered(id);
    if (remembered) return remembered;
    return upstream(this.log, { operation: 'read', vmId: id }, async () => {
      let server: Server;
      for (let attempt = 1; ; attempt++) {
        try {
          server = await this.connection.compute.getServer(id, options);
          break;
        } catch (err) {
          if (!(err instanceof OpenStackHttpError && err.status === 404)) throw err;
          if (attempt > YOUNG_RETRIES || !this.isYoung(id)) {
            this.reconciler.gone(id);
            return this.deleted.find(id, options);
          }
          await delay(this.tuning.pollIntervalMs);
        }
      }
      const [record] = await this.reconciler.reconcileAll([server], options);
      return record;
    });
  }
}
