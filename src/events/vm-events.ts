import type { VmChange } from '../service/vm-service.js';
import type { EventData, EventPublisher } from './event-hub.js';

/** The VM events on the stream (docs/contract.md section 11). */
export const vmEventTypes = ['vm.created', 'vm.settled', 'vm.deleted'] as const;
export type VmEventType = (typeof vmEventTypes)[number];

/** Bounds the per-VM maps below, should a task never settle (the OpenStack watcher gives up after a while). */
const MAX_TRACKED = 10_000;

/**
 * Turns what the service sees (creates and actions it accepted, tasks the backend saw settle) into
 * the stream's three events, by rules that make both backends say the same thing for the same calls:
 *
 * - `vm.created` once per VM, before anything else about it, with status STOPPED and task
 *   `creating` as the contract creates it, whether the backend settles the create later or at once
 *   (the memory backend without a delay settles it inside create(), before the service hears of it).
 * - `vm.settled` when a task other than a delete settles.
 * - `vm.deleted` when a delete is accepted, not when it settles: Nova forgets a deleted server, so
 *   the OpenStack backend cannot always see that settle, and a deleting VM accepts nothing more.
 *   A settle into DELETED (a task a delete overtook) is therefore not repeated.
 */
export function vmEventFeed(hub: EventPublisher, now: () => number = Date.now): (change: VmChange) => void {
  /** The request last about to act on each VM (`acting`), for a settle the backend reports at once. */
  const requestIds = new Map<string, string>();
  /**
   * The request that started each task still running, by "<vm id> <task>", from `accepted`. The
   * OpenStack backend may report a settle only after the next action was accepted; the settle must
   * still name the request of its own task.
   */
  const taskRequestIds = new Map<string, string>();
  /**
   * VMs whose vm.created is out and whose `creating` task has not settled yet, with the create's
   * request id. Kept apart from `requestIds`: on OpenStack the create's settle may be seen only
   * after the next action was accepted, and must not take that action's request id.
   */
  const creating = new Map<string, string | null>();
  /**
   * Settles of a `creating` task seen before the service reported the create (a backend that
   * settles at once does this inside create()): held until the create is reported, at most one
   * turn of the event loop, so that vm.created still comes first and carries its request id.
   */
  const earlySettles = new Map<string, Extract<VmChange, { kind: 'settled' }>>();

  const remember = (collection: Map<string, unknown>, add: () => void) => {
    add();
    if (collection.size > MAX_TRACKED) collection.delete(collection.keys().next().value as string);
  };
  // The once-key names the change itself (not when this process saw it), for the shared stream's dedupe.
  const publish = (type: VmEventType, data: Omit<EventData, 'resource' | 'at'>, onceKey = `${type}:${data.id}`) =>
    hub.publish(type, { resource: 'vm', ...data, at: new Date(now()).toISOString() }, onceKey);

  const publishSettled = ({ vm, previous, task }: Extract<VmChange, { kind: 'settled' }>, requestId: string | null) =>
    publish(
      'vm.settled',
      { id: vm.id, status: vm.status, previous_status: previous, task, request_id: requestId, tenant: vm.tenant },
      `vm.settled:${vm.id}:${task}:${vm.status}:${vm.updated_at}`,
    );

  return (change) => {
    if (change.kind === 'acting') {
      // Before the backend acts: a backend that settles at once reports the settle before `accepted`.
      remember(requestIds, () => requestIds.set(change.id, change.requestId));
      return;
    }
    const { vm } = change;
    switch (change.kind) {
      case 'created': {
        const requestId = change.requestId ?? null;
        publish('vm.created', { id: vm.id, status: 'STOPPED', previous_status: null, task: 'creating', request_id: requestId, tenant: vm.tenant });
        const early = earlySettles.get(vm.id);
        if (early) {
          earlySettles.delete(vm.id);
          publishSettled(early, requestId);
        } else if (vm.task !== null) {
          remember(creating, () => creating.set(vm.id, requestId));
        }
        return;
      }
      case 'accepted': {
        if (change.action === 'delete') {
          requestIds.delete(vm.id);
          creating.delete(vm.id);
          if (change.busyWith === 'deleting') return;
          publish('vm.deleted', { id: vm.id, status: 'DELETED', previous_status: change.previous, task: 'deleting', request_id: change.requestId ?? null, tenant: vm.tenant });
        } else if (vm.task !== null) {
          remember(taskRequestIds, () => taskRequestIds.set(`${vm.id} ${vm.task}`, change.requestId));
        }
        return;
      }
      case 'settled': {
        if (vm.status === 'DELETED' || change.task === 'deleting') {
          creating.delete(vm.id);
          return;
        }
        if (change.task === 'creating' && creating.has(vm.id)) {
          const requestId = creating.get(vm.id) ?? null;
          creating.delete(vm.id);
          publishSettled(change, requestId);
          return;
        }
        if (change.task === 'creating') {
          earlySettles.set(vm.id, change);
          setImmediate(() => {
            // Not reported by the service (a VM created around it): announce the create from here.
            if (!earlySettles.delete(vm.id)) return;
            publish('vm.created', { id: vm.id, status: 'STOPPED', previous_status: null, task: 'creating', request_id: null, tenant: vm.tenant });
            publishSettled(change, null);
          });
          return;
        }
        const taskKey = `${vm.id} ${change.task}`;
        const requestId = taskRequestIds.get(taskKey) ?? requestIds.get(vm.id) ?? null;
        taskRequestIds.delete(taskKey);
        if (requestIds.get(vm.id) === requestId) requestIds.delete(vm.id);
        publishSettled(change, requestId);
        return;
      }
    }
  };
}
