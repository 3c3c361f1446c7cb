import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer } from '../support/redis-server.js';
import { sharedApp, type SharedApp } from '../support/redis-apps.js';
import { SseClient } from '../support/sse-client.js';

const body = JSON.stringify({ name: 'evented', flavor: 'm1.small', image: 'ubuntu-22.04' });
const create = (app: SharedApp) => fetch(`${app.url}/api/v1/vms`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
const data = (frame: { data: string }) => JSON.parse(frame.data) as { id: string; status: string; request_id: string | null };

describe('events through a Redis Stream', () => {
  let redis: RedisServer;
  let apps: SharedApp[] = [];
  const streams: SseClient[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterEach(async () => {
    for (const stream of streams.splice(0)) stream.close();
    for (const app of apps) await app.close();
    apps = [];
  });
  afterAll(async () => {
    await redis?.stop();
  });

  const two = async () => {
    apps = [await sharedApp(redis.url, { MOCK_ACTION_DELAY_MS: '150' }), await sharedApp(redis.url, { MOCK_ACTION_DELAY_MS: '150' })];
    return apps as [SharedApp, SharedApp];
  };
  const follow = async (app: SharedApp, headers: Record<string, string> = {}) => {
    const stream = await SseClient.open(`${app.url}/api/v1/events`, headers);
    streams.push(stream);
    return stream;
  };

  it('a VM created through one process is seen created and settling on the other\'s stream, once, with stream ids', async () => {
    const [a, b] = await two();
    const onA = await follow(a);
    const onB = await follow(b);
    const made = await create(a);
    expect(made.status).toBe(202);
    const vm = (await made.json()) as { id: string };
    const events = await onB.untilEvents(2);
    expect(events.map((e) => [e.event, data(e).id])).toEqual([
      ['vm.created', vm.id],
      ['vm.settled', vm.id],
    ]);
    expect(data(events[0]!).request_id).toBe(made.headers.get('x-request-id'));
    expect(events[0]!.id).toMatch(/^\d+-\d+$/);
    // The same events, with the same ids, on the process that made them.
    const own = await onA.untilEvents(2);
    expect(own.map((e) => e.id)).toEqual(events.map((e) => e.id));
    await new Promise((r) => setTimeout(r, 100));
    expect(onB.events).toHaveLength(2);
  });

  it('Last-Event-ID from one process replays on another what was missed', async () => {
    const [a, b] = await two();
    const onA = await follow(a);
    await create(a);
    const [first] = await onA.untilEvents(1);
    await onA.untilEvents(2);
    await create(a);
    await onA.untilEvents(4);
    await expect.poll(async () => {
      const replay = await follow(b, { 'last-event-id': first!.id! });
      await new Promise((r) => setTimeout(r, 50));
      replay.close();
      return replay.events.map((e) => e.id);
    }).toEqual(onA.events.slice(1).map((e) => e.id));
    const unknown = await follow(b, { 'last-event-id': '1-0' });
    await unknown.untilEvents(1);
    expect(unknown.events[0]!.event).toBe('reset');
  });

  it('a process started later replays the stream kept before it', async () => {
    const [a] = await two();
    const onA = await follow(a);
    await create(a);
    const [first] = await onA.untilEvents(2);
    const late = await sharedApp(redis.url);
    apps.push(late);
    await expect.poll(async () => {
      const replay = await follow(late, { 'last-event-id': first!.id! });
      await new Promise((r) => setTimeout(r, 50));
      replay.close();
      return replay.events.map((e) => e.event);
    }).toEqual(['vm.settled']);
  });

  it('with Redis down, events are dropped (logged) and streams stay open; once back, they flow again', async () => {
    const [a, b] = await two();
    const onB = await follow(b);
    await redis.stop();
    try {
      expect((await create(a)).status).toBe(202);
      await expect.poll(() => a.logs().filter((l) => l.event === 'events.dropped').length, { timeout: 3_000 }).toBeGreaterThanOrEqual(1);
      expect(onB.ended).toBeUndefined();
    } finally {
      await redis.start();
    }
    await expect.poll(async () => (await a.state.check()).ok, { timeout: 10_000 }).toBe(true);
    const made = (await (await create(a)).json()) as { id: string };
    await expect.poll(() => onB.events.filter((e) => data(e).id === made.id).map((e) => e.event), { timeout: 10_000 }).toEqual(['vm.created', 'vm.settled']);
    expect(onB.ended).toBeUndefined();
  });

  it('one change seen by two processes is appended once (its once-key); without a key every append counts', async () => {
    const [a, b] = await two();
    const entry = { type: 'vm.settled', data: '{}' };
    const both = await Promise.all([a.state.append(entry, { maxLen: 10, onceKey: 'x:1' }), b.state.append(entry, { maxLen: 10, onceKey: 'x:1' })]);
    expect(both.filter((id) => id !== undefined)).toHaveLength(1);
    const plain = await Promise.all([a.state.append(entry, { maxLen: 10 }), b.state.append(entry, { maxLen: 10 })]);
    expect(plain.every((id) => typeof id === 'string' && /^\d+-\d+$/.test(id))).toBe(true);
  });
});
