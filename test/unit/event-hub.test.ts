import { describe, expect, it } from 'vitest';
import { EventHub, type EventData, type HubEvent } from '../../src/events/event-hub.js';

const data = (id: string): EventData => ({ resource: 'vm', id, status: 'RUNNING', previous_status: 'STOPPED', task: 'starting', at: '2026-01-01T00:00:00.000Z', request_id: null, tenant: null });

describe('EventHub', () => {
  it('keeps events for replay no longer than the age bound', () => {
    let now = 0;
    const hub = new EventHub({ replayCount: 100, replayAgeMs: 1000, now: () => now });
    hub.publish('vm.settled', data('a')); // id 1 at 0 ms
    now = 600;
    hub.publish('vm.settled', data('b')); // id 2 at 600 ms
    now = 1200; // id 1 is now too old; id 2 is not
    expect(hub.subscribe(() => undefined, 1).backlog).toEqual({ kind: 'events', events: [expect.objectContaining({ id: 2 })] });
    expect(hub.subscribe(() => undefined, 0).backlog).toEqual({ kind: 'reset', lastId: 2 });
    now = 1700;
    expect(hub.subscribe(() => undefined, 1).backlog).toEqual({ kind: 'reset', lastId: 2 });
    expect(hub.subscribe(() => undefined, 2).backlog).toEqual({ kind: 'events', events: [] });
  });

  it('keeps no more than the count bound, however many are published, and compacts its buffer', () => {
    const hub = new EventHub({ replayCount: 3, replayAgeMs: 60_000 });
    for (let i = 0; i < 1000; i++) hub.publish('vm.settled', data(String(i)));
    const { backlog } = hub.subscribe(() => undefined, 997);
    expect(backlog.kind === 'events' && backlog.events.map((e) => e.id)).toEqual([998, 999, 1000]);
    expect(hub.subscribe(() => undefined, 996).backlog.kind).toBe('reset');
  });

  it('with a count of 0 keeps nothing: any earlier id is a reset', () => {
    const hub = new EventHub({ replayCount: 0, replayAgeMs: 60_000 });
    hub.publish('vm.settled', data('a'));
    hub.publish('vm.settled', data('b'));
    expect(hub.subscribe(() => undefined, 1).backlog).toEqual({ kind: 'reset', lastId: 2 });
  });

  it('serialises each event once as an SSE frame, delivers it to every listener, and stops after unsubscribe', () => {
    const hub = new EventHub({ replayCount: 10, replayAgeMs: 60_000 });
    const seen: HubEvent[] = [];
    const first = hub.subscribe((e) => seen.push(e));
    hub.subscribe((e) => seen.push(e));
    expect(hub.subscriberCount).toBe(2);
    const event = hub.publish('vm.created', data('x'));
    expect(event.frame.toString('utf8')).toBe(`id: 1\nevent: vm.created\ndata: ${JSON.stringify(data('x'))}\n\n`);
    expect(seen).toEqual([event, event]);
    first.unsubscribe();
    hub.publish('vm.deleted', data('x'));
    expect(seen).toHaveLength(3);
  });
});

describe('EventHub fed by a shared stream (REDIS_URL)', () => {
  const data = (id: string) => ({ resource: 'vm' as const, id, status: 'RUNNING', previous_status: 'STOPPED', task: 'starting', at: '', request_id: null, tenant: null });

  it('sends stream ids, replays after one, resets for ids older than the buffer, ahead of it, or plain numbers', () => {
    let now = 1_000;
    const hub = new EventHub({ replayCount: 2, replayAgeMs: 60_000, now: () => now });
    const seen: string[] = [];
    hub.subscribe((e) => seen.push(e.frame.toString().split('\n')[0] as string));
    hub.deliver('1000-0', 'vm.settled', data('a'));
    hub.deliver('1000-1', 'vm.settled', data('b'), { quiet: true });
    hub.deliver('1001-0', 'vm.settled', data('c'));
    expect(seen).toEqual(['id: 1000-0', 'id: 1001-0']);
    // 1000-0 was pruned last (replayCount 2): a client that saw it gets the rest.
    const ids = (lastEventId: string | number) => {
      const { backlog } = hub.subscribe(() => undefined, lastEventId);
      return backlog.kind === 'events' ? backlog.events.map((e) => e.streamId) : backlog;
    };
    expect(ids('1000-0')).toEqual(['1000-1', '1001-0']);
    expect(ids('1000-1')).toEqual(['1001-0']);
    expect(ids('1000-5')).toEqual(['1001-0']);
    expect(ids('1001-0')).toEqual([]);
    expect(ids('999-0')).toEqual({ kind: 'reset', lastId: '1001-0' });
    expect(ids('2000-0')).toEqual({ kind: 'reset', lastId: '1001-0' });
    expect(ids(3)).toEqual({ kind: 'reset', lastId: '1001-0' });
    now = 1_000_000;
    expect(ids('1000-1')).toEqual({ kind: 'reset', lastId: '1001-0' });
  });

  it('resets a stream id before anything was delivered', () => {
    const hub = new EventHub({ replayCount: 10, replayAgeMs: 60_000 });
    expect(hub.subscribe(() => undefined, '5-0').backlog).toEqual({ kind: 'reset', lastId: '0-0' });
  });
});
