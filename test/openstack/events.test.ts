import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../support/api-client.js';
import { startApp, type RunningApp } from '../support/memory-app.js';
import { SseClient } from '../support/sse-client.js';
import { expectVolumeLifeOnStream } from '../support/volume-life.js';
import { catalogNames, demoEnv } from './mini-openstack.js';

// docs/contract.md section 11: both backends emit the same events for the same calls. This is the
// memory backend's first events test (test/integration/events.test.ts), run against Nova.
let app: RunningApp;
let api: ApiClient;
let events: SseClient;
beforeAll(async () => {
  app = await startApp(demoEnv());
  api = new ApiClient(app.baseUrl);
  events = await SseClient.open(`${app.baseUrl}/api/v1/events`);
});
afterAll(async () => {
  events.close();
  await app.close();
});

const dataOf = (frame: { data: string }) => JSON.parse(frame.data) as Record<string, unknown>;
const settleOnStream = (id: string, task: string) =>
  events.until((c) => c.events.some((f) => f.event === 'vm.settled' && dataOf(f).id === id && dataOf(f).task === task), 90_000);

describe('GET /api/v1/events on the OpenStack backend', () => {
  it('streams a server life as vm.created, vm.settled per task and vm.deleted, with ids that go up by one', async () => {
    const created = await api.createVm({ name: 'events-life', flavor: catalogNames.flavors.small, image: catalogNames.image, start: true });
    expect(created.status).toBeLessThan(300);
    const id = created.body.id;
    await api.settled(id);
    await settleOnStream(id, 'creating');
    const stopped = await api.act(id, 'stop');
    await api.settled(id);
    // Nova's state can be read before the API's watcher reports the settle: wait for the event, so
    // the order below is the calls' order.
    await settleOnStream(id, 'stopping');
    const deleted = await api.deleteVm(id);
    const frames = (await events.untilEvents(4, 90_000)).filter((f) => dataOf(f).id === id);

    expect(frames.map((f) => f.event)).toEqual(['vm.created', 'vm.settled', 'vm.settled', 'vm.deleted']);
    const ids = frames.map((f) => Number(f.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const [c, s1, s2, d] = frames.map(dataOf);
    const createId = created.headers.get('x-request-id');
    expect(c).toMatchObject({ resource: 'vm', id, status: 'STOPPED', previous_status: null, task: 'creating', request_id: createId, tenant: 'default' });
    expect(s1).toMatchObject({ resource: 'vm', id, status: 'RUNNING', previous_status: 'STOPPED', task: 'creating', request_id: createId });
    expect(s2).toMatchObject({ id, status: 'STOPPED', previous_status: 'RUNNING', task: 'stopping', request_id: stopped.headers.get('x-request-id') });
    expect(d).toMatchObject({ id, status: 'DELETED', previous_status: 'STOPPED', task: 'deleting', request_id: deleted.headers.get('x-request-id') });
  }, 120_000);

  it('streams a volume life as volume.created, volume.settled per task and volume.deleted, as the memory backend does', async () => {
    const host = await api.createSettled({ name: 'events-volume-host', flavor: catalogNames.flavors.small, image: catalogNames.image, start: true });
    try {
      await expectVolumeLifeOnStream(api, events, host.id, `events-volume-${Date.now()}`, 90_000);
    } finally {
      await api.deleteVm(host.id);
    }
  }, 240_000);
});
