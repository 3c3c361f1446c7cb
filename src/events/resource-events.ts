import type { VmChange } from '../service/vm-service.js';
import type { VolumeChange } from '../service/volume-service.js';
import type { EventData, EventPublisher } from './event-hub.js';

/** The events on the stream (docs/contract.md section 11), three per resource. */
export const vmEventTypes = ['vm.created', 'vm.settled', 'vm.deleted'] as const;
export const volumeEventTypes = ['volume.created', 'volume.settled', 'volume.deleted'] as const;
export const eventTypes = [...vmEventTypes, ...volumeEventTypes] as const;
export const eventResources = ['vm', 'volume'] as const satisfies readonly EventData['resource'][];

/** What the feed reads of a resource (a VM, a volume). */
export interface EventSubject {
  id: string;
  status: string;
  task: string | null;
  tenant: string;
  updated_at: string;
}

/**
 * What a service reports: a create it accepted, an action about to be applied (`acting`), an
 * action it accepted (delete included), and a task the backend saw settle.
 */
export type ResourceChange =
  | { kind: 'created'; subject: EventSubject; requestId: string }
  | { kind: 'acting'; id: string; requestId: string }
  | { kind: 'accepted'; subject: EventSubject; previous: string; busyWith: string | null; action: string; requestId: string }
  | { kind: 'settled'; subject: EventSubject; previous: string; task: string };

export function vmEventFeed(hub: EventPublisher, now: () => number = Date.now): (change: VmChange) => void {
  const feed = resourceEventFeed(hub, { resource: 'vm', createdStatus: 'STOPPED' }, now);
  return (change) => feed(change.kind === 'acting' ? change : { ...change, subject: change.vm });
}

/** Volumes (docs/contract.md section 10) by the VM's rules: a create starts AVAILABLE, `creating`. */
export function volumeEventFeed(hub: EventPublisher, now: () => number = Date.now): (change: VolumeChange) => void {
  const feed = resourceEventFeed(hub, { resource: 'volume', createdStatus: 'AVAILABLE' }, now);
  return (change) => feed(change.kind === 'acting' ? change : { ...change, subject: change.volume });
}

/** Bounds the per-resource maps below, should a task never settle (the OpenStack watcher gives up after a while). */
const MAX_TRACKED = 10_000;

/**
 * Turns what a service sees (creates and actions it accepted, tasks the backend saw settle) into
 * the stream's three events of its resource (`<resource>.created`, `.settled`, `.deleted`), by rules
 * that make both backends say the same thing for the same calls (written for VMs, the same for
 * volumes):
 *
 * - `vm.created` once per VM, before anything else about it, with status STOPPED and task
 *   `creating` as the contract creates it, whether the backend settles the create later or at once
 *   (the memory backend without a delay settles it inside create(), before the service hears of it).
 * - `vm.settled` when a task other than a delete settles.
 * - `vm.deleted` when a delete is accepted, not when it settles: Nova forgets a deleted server, so
 *   the OpenStack backend cannot always see that settle, and a deleting VM accepts nothing more.
 *   A settle into DELETED (a task a delete overtook) is therefore not repeated.
 */
function resourceEventFeed(
  hub: EventPublisher,
  kind: { resource: EventData['resource']; createdStatus: string },
  now: () => number,
): (change: ResourceChange) => void {
  const { resource, createdStatus } = kind;
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
  const earlySettles = new Map<string, Extract<ResourceChange, { kind: 'settled' }>>();

  const remember = (collection: Map<string, unknown>, add: () => void) => {
    add();
    if (collection.size > MAX_TRACKED) collection.delete(collection.keys().next().value as string);
  };
  // The once-key names the change itself (not when this process saw it), for the shared stream's dedupe.
  const publish = (event: 'created' | 'settled' | 'deleted', data: Omit<EventData, 'resource' | 'at'>, onceKey = `${resource}.${event}:${data.id}`) =>
    hub.publish(`${resource}.${event}`, { resource, ...data, at: new Date(now()).toISOString() }, onceKey);

  const publishSettled = ({ subject, previous, task }: Extract<ResourceChange, { kind: 'settled' }>, requestId: string | null) =>
    publish(
      'settled',
      { id: subject.id, status: subject.status, previous_status: previous, task, request_id: requestId, tenant: subject.tenant },
      `${resource}.settled:${subject.id}:${task}:${subject.status}:${subject.updated_at}`,
    );

  return (change) => {
    if (change.kind === 'acting') {
      // Before the backend acts: a backend that settles at once reports the settle before `accepted`.
      remember(requestIds, () => requestIds.set(change.id, change.requestId));
      return;
    }
    const { subject } = change;
    switch (change.kind) {
      case 'created': {
        const requestId = change.requestId ?? null;
        publish('created', { id: subject.id, status: createdStatus, previous_status: null, task: 'creating', request_id: requestId, tenant: subject.tenant });
        const early = earlySettles.get(subject.id);
        if (early) {
          earlySettles.delete(subject.id);
          publishSettled(early, requestId);
        } else if (subject.task !== null) {
          remember(creating, () => creating.set(subject.id, requestId));
        }
        return;
      }
      case 'accepted': {
        if (change.action === 'delete') {
          requestIds.delete(subject.id);
          creating.delete(subject.id);
          if (change.busyWith === 'deleting') return;
          publish('deleted', { id: subject.id, status: 'DELETED', previous_status: change.previous, task: 'deleting', request_id: change.requestId ?? null, tenant: subject.tenant });
        } else if (subject.task !== null) {
          remember(taskRequestIds, () => taskRequestIds.set(`${subject.id} ${subject.task}`, change.requestId));
        }
        return;
      }
      case 'settled': {
        if (subject.status === 'DELETED' || change.task === 'deleting') {
          creating.delete(subject.id);
          return;
        }
        if (change.task === 'creating' && creating.has(subject.id)) {
          const requestId = creating.get(subject.id) ?? null;
          creating.delete(subject.id);
          publishSettled(change, requestId);
          return;
        }
        if (change.task === 'creating') {
          earlySettles.set(subject.id, change);
          setImmediate(() => {
            // Not reported by the service (a VM created around it): announce the create from here.
            if (!earlySettles.delete(subject.id)) return;
            publish('created', { id: subject.id, status: createdStatus, previous_status: null, task: 'creating', request_id: null, tenant: subject.tenant });
            publishSettled(change, null);
          });
          return;
        }
        const taskKey = `${subject.id} ${change.task}`;
        const requestId = taskRequestIds.get(taskKey) ?? requestIds.get(subject.id) ?? null;
        taskRequestIds.delete(taskKey);
        if (requestIds.get(subject.id) === requestId) requestIds.delete(subject.id);
        publishSettled(change, requestId);
        return;
      }
    }
  };
}
