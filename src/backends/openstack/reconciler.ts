import type { Logger } from 'pino';
import { OpenStackHttpError, type CallOptions, type Connection, type Server, type ServerAction } from '../../openstack/index.js';
import type { VmRecord } from '../../repository/vm-repository.js';
import type { OpenStackCatalog } from './catalog.js';
import { pendingStopMarks } from './marks.js';
import { serverToRecord, type ServerTenant } from './server-record.js';
import type { OpenStackTuning } from './tuning.js';

/** A follow-up call that a read of the server showed to be due, and when this process sent it. */
interface Nudge {
  type: ServerAction['type'];
  at: number;
}

export interface ReconcilerOptions {
  connection: Connection;
  catalog: OpenStackCatalog;
  /** Whose server each is (tenant-placement.ts). */
  tenantOf: ServerTenant;
  log: Logger;
  tuning: Pick<OpenStackTuning, 'nudgeRetryMs'>;
  now: () => number;
}

/**
 * Turns servers as Nova shows them into VM records, after acting on what they call for: a pending
 * stop whose server is ACTIVE gets its os-stop, a PAUSED one its unpause, a SHUTOFF (or failed)
 * one loses its mark; a VERIFY_RESIZE server gets its confirmResize. Every read goes through here,
 * so any process, or one started after a crash, finishes what another began.
 */
export class Reconciler {
  private readonly connection: Connection;
  private readonly catalog: OpenStackCatalog;
  private readonly tenantOf: ServerTenant;
  private readonly log: Logger;
  private readonly tuning: Pick<OpenStackTuning, 'nudgeRetryMs'>;
  private readonly now: () => number;
  private readonly nudges = new Map<string, Nudge>();
  /**
   * Servers this process sent a DELETE for, until Nova no longer shows them. A delete that
   * interrupts another task (a start, say) can show the server briefly settled again, task_state
   * null, before it goes: the VM must read as deleting throughout.
   */
  private readonly deletesSent = new Set<string>();

  constructor(options: ReconcilerOptions) {
    this.connection = options.connection;
    this.catalog = options.catalog;
    this.tenantOf = options.tenantOf;
    this.log = options.log;
    this.tuning = options.tuning;
    this.now = options.now;
  }

  async reconcileAll(servers: readonly Server[], options: CallOptions): Promise<VmRecord[]> {
    await this.catalog.refresh();
    return Promise.all(servers.map((server) => this.reconcile(server, options)));
  }

  /** This process sent a DELETE: no more reconciling calls, and the VM reads deleting until it is gone. */
  deleteSent(id: string, placed: boolean): void {
    this.nudges.delete(id);
    if (placed) this.deletesSent.add(id);
  }

  /** Nova no longer has the server. */
  gone(id: string): void {
    this.deletesSent.delete(id);
  }

  private async reconcile(server: Server, options: CallOptions): Promise<VmRecord> {
    if (this.deletesSent.has(server.id)) return this.shownDeleting(server);
    let shown = server;
    const tags = server.tags ?? [];
    const pending = pendingStopMarks(tags);
    const idle = server['OS-EXT-STS:task_state'] === null;
    let due: ServerAction | undefined;
    if (idle && server.status === 'VERIFY_RESIZE') due = { type: 'confirmResize' };
    if (idle && pending.length > 0) {
      if (server.status === 'ACTIVE') due = { type: 'stop' };
      else if (server.status === 'PAUSED') due = { type: 'unpause' };
      else if (server.status === 'SHUTOFF' || server.status === 'ERROR') {
        // Done (or failed for good): drop the marks before showing the VM settled, so that a start
        // that follows is never taken for the pending stop. A failed removal shows it still busy.
        if (await this.dropMarks(server.id, pending, options)) shown = { ...server, tags: tags.filter((t) => !pending.includes(t)) };
      }
    }
    this.nudge(server.id, due, options);
    return serverToRecord(shown, this.catalog.names, this.now(), this.tenantOf);
  }

  /** A server this process is deleting: no reconciling call, and the task is 'deleting' until it is gone. */
  private shownDeleting(server: Server): VmRecord {
    this.nudge(server.id, undefined, {});
    const record = serverToRecord(server, this.catalog.names, this.now(), this.tenantOf);
    if (record.vm.status === 'DELETED') {
      this.deletesSent.delete(server.id);
      return record;
    }
    return { ...record, vm: { ...record.vm, task: 'deleting' }, version: `${record.version}-d` };
  }

  private async dropMarks(id: string, pending: readonly string[], options: CallOptions): Promise<boolean> {
    try {
      await Promise.all(pending.map((tag) => this.connection.compute.removeServerTag(id, tag, options)));
      this.log.info({ event: 'openstack.mark_cleared', vm_id: id, marks: pending }, 'pending stop done');
      return true;
    } catch (err) {
      // Another process removed it first: done all the same.
      if (err instanceof OpenStackHttpError && err.status === 404) return true;
      this.log.warn({ event: 'openstack.mark_not_cleared', vm_id: id, error: String(err) }, 'could not clear a pending-stop mark');
      return false;
    }
  }

  /**
   * Sends a reconciling call in the background, once per process until the server no longer
   * calls for it (or again after nudgeRetryMs). Another process may send the same: Nova's 409 for
   * the loser is expected and only logged.
   */
  private nudge(id: string, action: ServerAction | undefined, options: CallOptions): void {
    if (action === undefined) {
      this.nudges.delete(id);
      return;
    }
    const sent = this.nudges.get(id);
    if (sent && sent.type === action.type && this.now() - sent.at < this.tuning.nudgeRetryMs) return;
    this.nudges.set(id, { type: action.type, at: this.now() });
    this.log.info({ event: 'openstack.reconcile', vm_id: id, action: action.type }, 'sending the call the server is waiting for');
    this.connection.compute.serverAction(id, action, options).catch((err: unknown) => {
      this.log.info({ event: 'openstack.reconcile_refused', vm_id: id, action: action.type, error: String(err) }, 'reconciling call refused');
    });
  }
}
