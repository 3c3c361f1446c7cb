import { memberScope } from '../support/scopes.js';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer } from '../../src/server.js';
import { ApiClient, type ProblemBody } from '../support/api-client.js';
import { configFrom, startApp, type RunningApp } from '../support/memory-app.js';
import { SseClient } from '../support/sse-client.js';
import { expectVolumeLifeOnStream } from '../support/volume-life.js';

const vm = (name: string, start = true) => ({ name, flavor: 'm1.tiny', image: 'cirros-0.6', start });

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

async function app(env: Record<string, string> = {}): Promise<{ app: RunningApp; api: ApiClient; stream: (query?: string, headers?: Record<string, string>) => Promise<SseClient> }> {
  const running = await startApp({ LOG_LEVEL: 'info', ...env });
  open.push(running);
  return {
    app: running,
    api: new ApiClient(running.baseUrl),
    stream: async (query = '', headers = {}) => {
      const client = await SseClient.open(`${running.baseUrl}/api/v1/events${query}`, headers);
      open.push(client);
      return client;
    },
  };
}

const dataOf = (frame: { data: string }) => JSON.parse(frame.data) as Record<string, unknown>;

describe('GET /api/v1/events', () => {
  it('streams a VM life as vm.created, vm.settled per task and vm.deleted, with ids that go up by one', async () => {
    const { api, stream } = await app();
    const events = await stream();
    expect(events.response.statusCode).toBe(200);
    expect(events.response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(events.response.headers['cache-control']).toBe('no-cache, no-transform');

    const created = await api.createVm(vm('life'));
    const id = created.body.id;
    const stopped = await api.act(id, 'stop');
    const deleted = await api.deleteVm(id);
    const frames = await events.untilEvents(4);

    expect(frames.map((f) => f.event)).toEqual(['vm.created', 'vm.settled', 'vm.settled', 'vm.deleted']);
    const ids = frames.map((f) => Number(f.id));
    expect(ids).toEqual([ids[0], (ids[0] as number) + 1, (ids[0] as number) + 2, (ids[0] as number) + 3]);
    const [c, s1, s2, d] = frames.map(dataOf);
    const createId = created.headers.get('x-request-id');
    expect(c).toMatchObject({ resource: 'vm', id, status: 'STOPPED', previous_status: null, task: 'creating', request_id: createId, tenant: 'default' });
    expect(s1).toMatchObject({ resource: 'vm', id, status: 'RUNNING', previous_status: 'STOPPED', task: 'creating', request_id: createId });
    expect(s2).toMatchObject({ id, status: 'STOPPED', previous_status: 'RUNNING', task: 'stopping', request_id: stopped.headers.get('x-request-id') });
    expect(d).toMatchObject({ id, status: 'DELETED', previous_status: 'STOPPED', task: 'deleting', request_id: deleted.headers.get('x-request-id') });
    expect(Date.parse(c?.at as string)).toBeGreaterThan(Date.now() - 5000);
  });

  it('sends the same events when tasks take time, with the request id that started each task', async () => {
    const { api, stream } = await app({ MOCK_ACTION_DELAY_MS: '30' });
    const events = await stream();
    const created = await api.createVm(vm('slow'));
    expect(created.status).toBe(202);
    const id = created.body.id;
    await api.settled(id);
    const paused = await api.act(id, 'pause');
    await api.settled(id);
    const deleted = await api.deleteVm(id);
    await api.deleteVm(id); // a repeated delete while deleting announces nothing new
    await api.settled(id);
    const frames = await events.untilEvents(4);
    await sleep(100);

    expect(events.events.map((f) => f.event)).toEqual(['vm.created', 'vm.settled', 'vm.settled', 'vm.deleted']);
    const [c, s1, s2, d] = frames.map(dataOf);
    const createId = created.headers.get('x-request-id');
    expect(c).toMatchObject({ status: 'STOPPED', previous_status: null, task: 'creating', request_id: createId });
    expect(s1).toMatchObject({ status: 'RUNNING', previous_status: 'STOPPED', task: 'creating', request_id: createId });
    expect(s2).toMatchObject({ status: 'PAUSED', previous_status: 'RUNNING', task: 'pausing', request_id: paused.headers.get('x-request-id') });
    expect(d).toMatchObject({ status: 'DELETED', previous_status: 'PAUSED', task: 'deleting', request_id: deleted.headers.get('x-request-id') });
  });

  it('replays what was missed after Last-Event-ID, then follows live', async () => {
    const { api, stream } = await app();
    const first = await stream();
    const a = (await api.createVm(vm('a'))).body.id;
    const seen = await first.untilEvents(2);
    const lastSeen = seen[1]?.id as string;
    first.close();
    const b = (await api.createVm(vm('b'))).body.id;

    const again = await stream('', { 'Last-Event-ID': lastSeen });
    const replayed = await again.untilEvents(2);
    expect(replayed.map((f) => [f.event, dataOf(f).id])).toEqual([
      ['vm.created', b],
      ['vm.settled', b],
    ]);
    expect(Number(replayed[0]?.id)).toBe(Number(lastSeen) + 1);
    await api.deleteVm(a);
    const live = await again.untilEvents(3);
    expect([live[2]?.event, dataOf(live[2] as { data: string }).id]).toEqual(['vm.deleted', a]);
  });

  it('starts with event: reset when Last-Event-ID reaches back further than the buffer, or is ahead of it', async () => {
    const { api, stream } = await app({ EVENTS_REPLAY_COUNT: '3' });
    for (const name of ['r1', 'r2', 'r3']) await api.createVm(vm(name)); // six events, three kept
    const tooOld = await stream('', { 'Last-Event-ID': '2' });
    await tooOld.untilEvents(1);
    expect(tooOld.events[0]).toMatchObject({ event: 'reset', id: '6' });
    expect(dataOf(tooOld.events[0] as { data: string }).reason).toMatch(/list again/);

    const oldestKept = await stream('', { 'Last-Event-ID': '3' });
    expect((await oldestKept.untilEvents(3)).map((f) => f.id)).toEqual(['4', '5', '6']);

    const fromAnotherLife = await stream('', { 'Last-Event-ID': '99' });
    await fromAnotherLife.untilEvents(1);
    expect(fromAnotherLife.events[0]?.event).toBe('reset');
    // After a reset, the stream follows live events.
    await api.createVm(vm('r4'));
    expect((await fromAnotherLife.untilEvents(3)).map((f) => f.event)).toEqual(['reset', 'vm.created', 'vm.settled']);
  });

  it.each(['0', '30'])('streams a volume life as volume.created, volume.settled per task and volume.deleted (MOCK_ACTION_DELAY_MS=%s)', async (delay) => {
    const { api, stream } = await app({ MOCK_ACTION_DELAY_MS: delay });
    const host = await api.createSettled(vm('host'));
    const events = await stream('?resource=volume');
    await expectVolumeLifeOnStream(api, events, host.id, 'life', 3000);
    expect(events.events.every((f) => f.event.startsWith('volume.'))).toBe(true);
  });

  it('filters by ?type=, ?id= and ?resource=, in replay and live alike', async () => {
    const { api, stream } = await app();
    const all = await stream();
    const a = (await api.createVm(vm('fa'))).body.id;
    const replayOnlyA = await stream('?id=' + a, { 'Last-Event-ID': '0' });
    const deletes = await stream('?type=vm.deleted,vm.created&resource=vm');
    const b = (await api.createVm(vm('fb'))).body.id;
    await api.act(a, 'stop');
    await api.deleteVm(b);
    await all.untilEvents(6);
    await sleep(50);
    expect(replayOnlyA.events.map((f) => [f.event, dataOf(f).id])).toEqual([
      ['vm.created', a],
      ['vm.settled', a],
      ['vm.settled', a],
    ]);
    expect(deletes.events.map((f) => [f.event, dataOf(f).id])).toEqual([
      ['vm.created', b],
      ['vm.deleted', b],
    ]);
  });

  it('refuses an unknown filter value, an unknown parameter and a malformed Last-Event-ID with a 400 problem', async () => {
    const { api } = await app();
    const badType = await api.call<ProblemBody>('GET', '/api/v1/events?type=vm.exploded');
    expect(badType.status).toBe(400);
    expect(badType.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(badType.body.errors?.[0]?.path).toBe('query.type.0');
    const unknown = await api.call<ProblemBody>('GET', '/api/v1/events?vm=x');
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors?.[0]).toEqual({ path: 'query.vm', message: 'unknown parameter' });
    const badId = await api.call<ProblemBody>('GET', '/api/v1/events', { headers: { 'Last-Event-ID': 'abc' } });
    expect(badId.status).toBe(400);
    expect(badId.body.detail).toMatch(/Last-Event-ID/);
  });

  it('is documented in the OpenAPI document as text/event-stream, with its filters and Last-Event-ID', async () => {
    const { api } = await app();
    type Operation = { responses: Record<string, { content?: Record<string, unknown> }>; parameters?: { name: string; in: string }[] };
    const doc = (await api.call<{ paths: Record<string, { get?: Operation }> }>('GET', '/openapi.json')).body;
    const stream = doc.paths['/api/v1/events']?.get;
    expect(Object.keys(stream?.responses['200']?.content ?? {})).toEqual(['text/event-stream']);
    expect(stream?.parameters?.map((p) => `${p.in} ${p.name}`)).toEqual(expect.arrayContaining(['query type', 'query id', 'query resource', 'header Last-Event-ID']));
  });

  it('sends a comment line every heartbeat while nothing happens', async () => {
    const { stream } = await app({ EVENTS_HEARTBEAT_MS: '50' });
    const events = await stream();
    await events.until((c) => c.frames.filter((f) => f.comments.includes('heartbeat')).length >= 2, 2000);
    expect(events.events).toEqual([]);
    expect(events.frames[0]).toMatchObject({ retry: '2000' });
  });

  it('needs a key like every API route when keys are configured', async () => {
    const { app: running } = await app({ API_KEYS: 'k1' });
    const without = await SseClient.open(`${running.baseUrl}/api/v1/events`);
    open.push(without);
    expect(without.response.statusCode).toBe(401);
    const withKey = await SseClient.open(`${running.baseUrl}/api/v1/events`, { authorization: 'Bearer k1' });
    open.push(withKey);
    expect(withKey.response.statusCode).toBe(200);
  });

  it('cuts a subscriber that stops reading once its unsent events pass the bound, and keeps serving the others', async () => {
    const { app: running, stream } = await app({
      EVENTS_MAX_BUFFERED_KB: '16',
      LOG_LEVEL: 'warn', // the cut is a warning; thousands of info lines would only slow the check
      MOCK_QUOTA_INSTANCES: '-1',
      MOCK_QUOTA_VCPUS: '-1',
      MOCK_QUOTA_RAM_MB: '-1',
      MOCK_CAPACITY_VCPUS: '10000000',
      MOCK_CAPACITY_RAM_MB: '1000000000',
      MOCK_IP_CIDR: '10.0.0.0/8',
    });
    const reader = await stream('?type=vm.created');
    const { port } = new URL(running.baseUrl);
    const stalled = connect(Number(port), '127.0.0.1');
    open.push({ close: () => stalled.destroy() });
    stalled.write('GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n');
    let closed = false;
    stalled.on('close', () => (closed = true));
    stalled.once('data', () => stalled.pause()); // the headers arrive; then the client reads nothing more
    await sleep(50);

    const flavor = await running.backend.catalog.findFlavor('m1.tiny');
    const image = await running.backend.catalog.findImage('cirros-0.6');
    if (!flavor || !image) throw new Error('seed catalog missing');
    // Two events of ~250 bytes per VM, in batches the reader can drain between (a tight loop of
    // creates never yields to I/O): until the kernel's buffers for the stalled socket are full
    // and the server holds the bound for it.
    let created = 0;
    for (let i = 0; i < 400 && !cutLogged(running); i++) {
      for (let j = 0; j < 100; j++, created++) await running.backend.vms.create(memberScope, { name: `flood-${created}`, flavor, image, start: true });
      await sleep(2);
    }
    expect(cutLogged(running)).toBe(true);
    const cut = running.logs.find((l) => l.event === 'events.subscriber_cut');
    expect(cut?.buffered_bytes).toBeGreaterThan(16 * 1024);
    expect(cut?.buffered_bytes).toBeLessThan(16 * 1024 + 4096);
    stalled.resume();
    await vitestUntil(() => closed);
    // The reader that keeps up still gets every event.
    await reader.until((c) => c.events.length === created, 10_000);
    expect(reader.ended).toBeUndefined();
  });

  it('ends every stream cleanly on shutdown, so the server stops without waiting for its timeout', async () => {
    const config = configFrom({ PORT: '0', SHUTDOWN_TIMEOUT_MS: '10000', EVENTS_HEARTBEAT_MS: '60000' });
    const running = await startServer(config, pino({ level: 'silent' }));
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    // More streams than an AbortSignal's default listener limit (10).
    const streams = await Promise.all(Array.from({ length: 12 }, () => SseClient.open(`http://127.0.0.1:${running.port}/api/v1/events`)));
    const started = Date.now();
    await running.shutdown();
    expect(Date.now() - started).toBeLessThan(2000);
    for (const events of streams) {
      await events.until((c) => c.ended !== undefined);
      expect(events.ended).toBe('end');
      expect(events.frames.at(-1)?.comments).toEqual(['server shutting down']);
    }
    process.off('warning', onWarning);
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  });
});

function cutLogged(running: RunningApp): boolean {
  return running.logs.some((l) => l.event === 'events.subscriber_cut');
}

async function vitestUntil(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}
