import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { Vm } from '../../src/domain/vm.js';
import { EventHub, type HubEvent } from '../../src/events/event-hub.js';
import type { Volume } from '../../src/domain/volume.js';
import { vmEventFeed, volumeEventFeed } from '../../src/events/resource-events.js';

const vm = (over: Partial<Vm>): Vm => ({
  id: 'v1',
  name: 'web',
  flavor: 'm1.tiny',
  image: 'cirros',
  tenant: 'default',
  status: 'STOPPED',
  task: null,
  ip_address: null,
  fault: null,
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
  security_groups: [],
  networks: [],
  floating_ip: null,
  volumes: [],
  ...over,
});

function feed() {
  const hub = new EventHub({ replayCount: 100, replayAgeMs: 60_000 });
  const seen: HubEvent[] = [];
  hub.subscribe((e) => seen.push(e));
  const summary = () => seen.map((e) => [e.type, e.data.status, e.data.previous_status, e.data.task, e.data.request_id]);
  return { report: vmEventFeed(hub, () => 0), summary };
}

describe('vmEventFeed: the same events whether a backend settles at once or later', () => {
  it('a backend that settles later (OpenStack, memory with a delay): created, then settled with the create request id', () => {
    const { report, summary } = feed();
    report({ kind: 'created', vm: vm({ task: 'creating' }), requestId: 'r1' });
    report({ kind: 'settled', vm: vm({ status: 'RUNNING' }), previous: 'STOPPED', task: 'creating' });
    expect(summary()).toEqual([
      ['vm.created', 'STOPPED', null, 'creating', 'r1'],
      ['vm.settled', 'RUNNING', 'STOPPED', 'creating', 'r1'],
    ]);
  });

  it('a backend that settles inside create(): the same two events, in the same order, once the create is reported', async () => {
    const { report, summary } = feed();
    report({ kind: 'settled', vm: vm({ status: 'RUNNING' }), previous: 'STOPPED', task: 'creating' });
    expect(summary()).toEqual([]);
    report({ kind: 'created', vm: vm({ status: 'RUNNING' }), requestId: 'r1' });
    await nextTurn();
    expect(summary()).toEqual([
      ['vm.created', 'STOPPED', null, 'creating', 'r1'],
      ['vm.settled', 'RUNNING', 'STOPPED', 'creating', 'r1'],
    ]);
  });

  it('a VM created around the service (never reported): announces the create itself, one turn later', async () => {
    const { report, summary } = feed();
    report({ kind: 'settled', vm: vm({ status: 'STOPPED' }), previous: 'STOPPED', task: 'creating' });
    await nextTurn();
    expect(summary()).toEqual([
      ['vm.created', 'STOPPED', null, 'creating', null],
      ['vm.settled', 'STOPPED', 'STOPPED', 'creating', null],
    ]);
  });

  it('deleted when the delete is accepted; a repeated delete, the delete settling, and a task it overtook settling in DELETED say nothing more', () => {
    const { report, summary } = feed();
    report({ kind: 'accepted', vm: vm({ status: 'RUNNING', task: 'starting' }), previous: 'STOPPED', busyWith: null, action: 'start', requestId: 'r2' });
    report({ kind: 'accepted', vm: vm({ status: 'STOPPED', task: 'deleting' }), previous: 'STOPPED', busyWith: 'starting', action: 'delete', requestId: 'r3' });
    report({ kind: 'accepted', vm: vm({ status: 'STOPPED', task: 'deleting' }), previous: 'STOPPED', busyWith: 'deleting', action: 'delete', requestId: 'r4' });
    report({ kind: 'settled', vm: vm({ status: 'DELETED' }), previous: 'STOPPED', task: 'starting' });
    report({ kind: 'settled', vm: vm({ status: 'DELETED' }), previous: 'STOPPED', task: 'deleting' });
    expect(summary()).toEqual([['vm.deleted', 'DELETED', 'STOPPED', 'deleting', 'r3']]);
  });

  it('an action settles with the request id that started it, whether it settles before or after the answer', () => {
    const { report, summary } = feed();
    report({ kind: 'acting', id: 'v1', requestId: 'r5' });
    report({ kind: 'accepted', vm: vm({ task: 'starting' }), previous: 'STOPPED', busyWith: null, action: 'start', requestId: 'r5' });
    report({ kind: 'settled', vm: vm({ status: 'RUNNING' }), previous: 'STOPPED', task: 'starting' });
    report({ kind: 'acting', id: 'v1', requestId: 'r6' });
    report({ kind: 'settled', vm: vm({ status: 'STOPPED' }), previous: 'RUNNING', task: 'stopping' });
    report({ kind: 'accepted', vm: vm({ status: 'STOPPED' }), previous: 'RUNNING', busyWith: null, action: 'stop', requestId: 'r6' });
    report({ kind: 'settled', vm: vm({ status: 'RUNNING' }), previous: 'STOPPED', task: 'starting' }); // started by another process
    expect(summary()).toEqual([
      ['vm.settled', 'RUNNING', 'STOPPED', 'starting', 'r5'],
      ['vm.settled', 'STOPPED', 'RUNNING', 'stopping', 'r6'],
      ['vm.settled', 'RUNNING', 'STOPPED', 'starting', null],
    ]);
  });
  it('a settle seen only after the next action was accepted keeps its own task\'s request id (OpenStack)', () => {
    const { report, summary } = feed();
    report({ kind: 'created', vm: vm({ task: 'creating' }), requestId: 'r1' });
    report({ kind: 'acting', id: 'v1', requestId: 'r2' });
    report({ kind: 'settled', vm: vm({ status: 'RUNNING' }), previous: 'STOPPED', task: 'creating' });
    report({ kind: 'accepted', vm: vm({ status: 'RUNNING', task: 'stopping' }), previous: 'RUNNING', busyWith: null, action: 'stop', requestId: 'r2' });
    report({ kind: 'acting', id: 'v1', requestId: 'r3' }); // a delete, before the stop is seen settling
    report({ kind: 'accepted', vm: vm({ status: 'STOPPED', task: 'deleting' }), previous: 'STOPPED', busyWith: null, action: 'delete', requestId: 'r3' });
    report({ kind: 'settled', vm: vm({ status: 'STOPPED' }), previous: 'RUNNING', task: 'stopping' });
    expect(summary()).toEqual([
      ['vm.created', 'STOPPED', null, 'creating', 'r1'],
      ['vm.settled', 'RUNNING', 'STOPPED', 'creating', 'r1'],
      ['vm.deleted', 'DELETED', 'STOPPED', 'deleting', 'r3'],
      ['vm.settled', 'STOPPED', 'RUNNING', 'stopping', 'r2'],
    ]);
  });
});

describe('volumeEventFeed: the VM\'s rules for volumes', () => {
  const volume = (over: Partial<Volume>): Volume => ({
    id: 'd1',
    name: 'data',
    description: '',
    size_gb: 1,
    status: 'AVAILABLE',
    task: null,
    attached_to: null,
    fault: null,
    tenant: 't1',
    created_at: '2026-01-01T00:00:00.000Z',
    updated_at: '2026-01-01T00:00:00.000Z',
    ...over,
  });

  it('announces a create settled inside create() after volume.created, then an attach and a delete, as resource "volume"', async () => {
    const hub = new EventHub({ replayCount: 100, replayAgeMs: 60_000 });
    const seen: HubEvent[] = [];
    hub.subscribe((e) => seen.push(e));
    const report = volumeEventFeed(hub, () => 0);
    report({ kind: 'settled', volume: volume({}), previous: 'AVAILABLE', task: 'creating' });
    report({ kind: 'created', volume: volume({}), requestId: 'r1' });
    report({ kind: 'acting', id: 'd1', requestId: 'r2' });
    report({ kind: 'accepted', volume: volume({ task: 'attaching' }), previous: 'AVAILABLE', busyWith: null, action: 'attach', requestId: 'r2' });
    report({ kind: 'settled', volume: volume({ status: 'IN_USE' }), previous: 'AVAILABLE', task: 'attaching' });
    report({ kind: 'accepted', volume: volume({ task: 'deleting' }), previous: 'AVAILABLE', busyWith: null, action: 'delete', requestId: 'r3' });
    await nextTurn();
    expect(seen.map((e) => [e.type, e.data.resource, e.data.status, e.data.previous_status, e.data.task, e.data.request_id, e.data.tenant])).toEqual([
      ['volume.created', 'volume', 'AVAILABLE', null, 'creating', 'r1', 't1'],
      ['volume.settled', 'volume', 'AVAILABLE', 'AVAILABLE', 'creating', 'r1', 't1'],
      ['volume.settled', 'volume', 'IN_USE', 'AVAILABLE', 'attaching', 'r2', 't1'],
      ['volume.deleted', 'volume', 'DELETED', 'AVAILABLE', 'deleting', 'r3', 't1'],
    ]);
  });
});
