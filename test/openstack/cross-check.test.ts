import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idempotencyTag, marks } from '../../src/backends/openstack/marks.js';
import { OpenStackHttpError, type Connection } from '../../src/openstack/index.js';
import { waitFor } from '../../src/shared/wait-for.js';
import { ApiClient, type VmBody } from '../support/api-client.js';
import { startApp, type RunningApp } from '../support/memory-app.js';
import { catalogNames, demoConnection, demoEnv } from './mini-openstack.js';

/** After actions through our API, ask Nova directly that it holds the same. */
describe('our API and Nova agree (BACKEND=openstack)', () => {
  let app: RunningApp;
  let api: ApiClient;
  let nova: Connection;
  const prefix = `xc-${randomBytes(3).toString('hex')}`;
  let counter = 0;
  const created: string[] = [];
  const create = async (extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) => {
    const response = await api.createVm({ name: `${prefix}-${++counter}`, flavor: catalogNames.flavors.small, image: catalogNames.image, ...extra }, headers);
    expect([201, 202]).toContain(response.status);
    created.push(response.body.id);
    return response.body;
  };
  const settledVm = async (id: string): Promise<VmBody> => (await api.settled(id, 120_000)).body;

  beforeAll(async () => {
    app = await startApp(demoEnv());
    api = new ApiClient(app.baseUrl);
    nova = demoConnection();
  });

  afterAll(async () => {
    await Promise.all(created.map((id) => api.deleteVm(id)));
    await app.close();
  });

  it('a create with start=false ends SHUTOFF in Nova, with the mark cleared', async () => {
    const vm = await settledVm((await create()).id);
    expect(vm).toMatchObject({ status: 'STOPPED', task: null });
    const server = await nova.compute.getServer(vm.id);
    expect(server.status).toBe('SHUTOFF');
    expect(server.tags).not.toContain(marks.startFalse);
  });

  it('after our stop Nova says SHUTOFF; after our stop of a PAUSED VM too, with no mark left', async () => {
    const vm = await settledVm((await create({ start: true })).id);
    expect(vm.status).toBe('RUNNING');
    expect((await api.actAndSettle(vm.id, 'stop')).status).toBe('STOPPED');
    expect((await nova.compute.getServer(vm.id)).status).toBe('SHUTOFF');
    await api.actAndSettle(vm.id, 'start');
    expect((await api.actAndSettle(vm.id, 'pause')).status).toBe('PAUSED');
    expect((await nova.compute.getServer(vm.id)).status).toBe('PAUSED');
    expect((await api.actAndSettle(vm.id, 'stop')).status).toBe('STOPPED');
    const server = await nova.compute.getServer(vm.id);
    expect(server.status).toBe('SHUTOFF');
    expect(server.tags).not.toContain(marks.stopAfterUnpause);
  });

  it('after our resize Nova has the new flavor and no VERIFY_RESIZE left', async () => {
    const vm = await settledVm((await create({ start: true })).id);
    const resized = await api.actAndSettle(vm.id, 'resize', { flavor: catalogNames.flavors.larger });
    expect(resized).toMatchObject({ status: 'RUNNING', flavor: catalogNames.flavors.larger });
    const server = await nova.compute.getServer(vm.id);
    expect(server.status).toBe('ACTIVE');
    expect(server.flavor).toMatchObject({ original_name: catalogNames.flavors.larger });
  });

  it('after our delete Nova answers 404', async () => {
    const vm = await settledVm((await create()).id);
    const deleted = await api.actAndSettle(vm.id, 'delete');
    expect(deleted.status).toBe('DELETED');
    // Nova may show the server as DELETED for a moment before its GET turns to 404.
    const read = () => nova.compute.getServer(vm.id).catch((err: unknown) => err);
    const error = await waitFor(read, (r) => r instanceof OpenStackHttpError, { timeoutMs: 10_000, intervalMs: 100 });
    expect(error).toBeInstanceOf(OpenStackHttpError);
    expect((error as OpenStackHttpError).status).toBe(404);
  });

  it('keeps the Idempotency-Key with the server in Nova: its tag and the request fingerprint', async () => {
    const key = `${prefix}-key.1`;
    const vm = await create({}, { 'Idempotency-Key': key });
    const server = await nova.compute.getServer(vm.id);
    expect(server.tags).toContain(idempotencyTag(key));
    expect(server.metadata[marks.fingerprint]).toMatch(/^[\w-]{20,}$/);
    const found = await nova.compute.listServers({ tags: [idempotencyTag(key)] });
    expect(found.servers.map((s) => s.id)).toEqual([vm.id]);
  });

  it('an API restart in the middle of a start=false create still ends STOPPED, and replays its key from Nova', async () => {
    const key = `${prefix}-restart`;
    const body = { name: `${prefix}-restart`, flavor: catalogNames.flavors.small, image: catalogNames.image };
    const first = await startApp(demoEnv());
    const response = await new ApiClient(first.baseUrl).createVm(body, { 'Idempotency-Key': key });
    expect([201, 202]).toContain(response.status);
    created.push(response.body.id);
    await first.close();
    const second = await startApp(demoEnv());
    try {
      const client = new ApiClient(second.baseUrl);
      const vm = (await client.settled(response.body.id, 120_000)).body;
      expect(vm).toMatchObject({ status: 'STOPPED', task: null });
      const server = await nova.compute.getServer(vm.id);
      expect(server.status).toBe('SHUTOFF');
      expect(server.tags).not.toContain(marks.startFalse);
      const replay = await client.createVm(body, { 'Idempotency-Key': key });
      expect(replay.body.id).toBe(vm.id);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
    } finally {
      await second.close();
    }
  });
});
