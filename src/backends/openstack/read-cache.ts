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
  tuning: Pick<OpenStackTuning, 'readReuseMs'>;
  now: () => number;
}

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
  private readonly tuning: Pick<OpenStackTuning, 'readReuseMs'>;
  private readonly now: () => number;
  private readonly recent = new Map<string, { at: number; value: Promise<VmRecord | undefined> }>();

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

  private async read(id: string, options: CallOptions): Promise<VmRecord | undefined> {
    const remembered = this.deleted.remembered(id);
    if (remembered) return remembered;
    return upstream(this.log, { operation: 'read', vmId: id }, async () => {
      let server: Server;
      try {
        server = await this.connection.compute.getServer(id, options);
      } catch (err) {
        if (!(err instanceof OpenStackHttpError && err.status === 404)) throw err;
        this.reconciler.gone(id);
        return this.deleted.find(id, options);
      }
      const [record] = await this.reconciler.reconcileAll([server], options);
      return record;
    });
  }
}
