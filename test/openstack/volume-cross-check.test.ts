import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { volumeMarks } from '../../src/backends/openstack/openstack-volume-repository.js';
import { OpenStackHttpError, type Connection } from '../../src/openstack/index.js';
import { waitFor } from '../../src/shared/wait-for.js';
import { ApiClient, type ApiResponse } from '../support/api-client.js';
import { startApp, type RunningApp } from '../support/memory-app.js';
import { catalogNames, demoConnection, demoEnv } from './mini-openstack.js';

interface VolumeBody {
  id: string;
  status: string;
  task: string | null;
  size_gb: number;
  attached_to: { vm_id: string; device: string | null } | null;
}

/** After volume calls through our API, ask Cinder and Nova directly that they hold the same. */
describe('our API, Cinder and Nova agree on volumes (BACKEND=openstack)', () => {
  let app: RunningApp;
  let api: ApiClient;
  let cloud: Connection;
  const prefix = `xv-${randomBytes(3).toString('hex')}`;
  const vms: string[] = [];
  const volumes: string[] = [];

  const settledVolume = async (id: string): Promise<VolumeBody> =>
    (
      await waitFor(
        () => api.call<VolumeBody>('GET', `/api/v1/volumes/${id}`),
        (r: ApiResponse<VolumeBody>) => r.status !== 200 || r.body.task === null,
        { timeoutMs: 120_000, intervalMs: 250 },
      )
    ).body;

  beforeAll(async () => {
    app = await startApp(demoEnv());
    api = new ApiClient(app.baseUrl);
    cloud = demoConnection();
    await cloud.blockStorage.negotiate();
  });

  afterAll(async () => {
    await Promise.all(vms.map((id) => api.deleteVm(id)));
    await Promise.all(vms.map((id) => api.settled(id, 120_000).catch(() => undefined)));
    for (const id of volumes) await cloud.blockStorage.deleteVolume(id).catch(() => undefined);
    await app.close();
  });

  it('a volume attached through the API is in-use in Cinder, attached to the server in Nova, and marked with its tenant', async () => {
    const vm = (await api.createSettled({ name: `${prefix}-vm`, flavor: catalogNames.flavors.small, image: catalogNames.image })) as { id: string };
    vms.push(vm.id);
    const created = await api.call<VolumeBody>('POST', '/api/v1/volumes', { body: { name: `${prefix}-v`, size_gb: 1 } });
    volumes.push(created.body.id);
    await settledVolume(created.body.id);
    await api.call('POST', `/api/v1/vms/${vm.id}/volumes`, { body: { volume: created.body.id } });
    const attached = await settledVolume(created.body.id);
    expect(attached).toMatchObject({ status: 'IN_USE', attached_to: { vm_id: vm.id } });

    const inCinder = await cloud.blockStorage.getVolume(created.body.id);
    expect(inCinder.status).toBe('in-use');
    expect(inCinder.attachments.map((a) => a.server_id)).toEqual([vm.id]);
    expect(inCinder.metadata[volumeMarks.tenant]).toBe('default');
    const server = await cloud.compute.getServer(vm.id);
    expect((server['os-extended-volumes:volumes_attached'] ?? []).map((v) => v.id)).toEqual([created.body.id]);
    const shown = (await api.getVm(vm.id)).body as unknown as { volumes: { id: string }[] };
    expect(shown.volumes.map((v) => v.id)).toEqual([created.body.id]);

    await api.call('DELETE', `/api/v1/vms/${vm.id}/volumes/${created.body.id}`);
    expect(await settledVolume(created.body.id)).toMatchObject({ status: 'AVAILABLE', attached_to: null });
    expect((await cloud.blockStorage.getVolume(created.body.id)).status).toBe('available');
  });

  it('data disks are Cinder volumes Nova attached at boot; the delete_on_termination one goes with the server', async () => {
    const vm = (await api.createSettled({
      name: `${prefix}-dd`,
      flavor: catalogNames.flavors.small,
      image: catalogNames.image,
      data_disks: [{ size_gb: 1, delete_on_termination: true }, { size_gb: 1 }],
    })) as { id: string; volumes: { id: string }[] };
    expect(vm.volumes).toHaveLength(2);
    volumes.push(...vm.volumes.map((v) => v.id));
    for (const { id } of vm.volumes) expect((await cloud.blockStorage.getVolume(id)).metadata[volumeMarks.tenant]).toBe('default');
    // Which disk goes is Nova's to say (its server body lists them in no promised order).
    const attached = (await cloud.compute.getServer(vm.id))['os-extended-volumes:volumes_attached'] ?? [];
    const gone = attached.find((v) => v.delete_on_termination === true)?.id;
    const kept = attached.find((v) => v.delete_on_termination === false)?.id;
    expect([gone, kept].sort()).toEqual(vm.volumes.map((v) => v.id).sort());
    await api.actAndSettle(vm.id, 'delete');
    const left = await waitFor(
      () => cloud.blockStorage.getVolume(gone as string).then(() => 200, (err: unknown) => (err instanceof OpenStackHttpError ? err.status : 0)),
      (status) => status === 404,
      { timeoutMs: 120_000, intervalMs: 1_000 },
    );
    expect(left).toBe(404);
    expect((await settledVolume(kept as string)).status).toBe('AVAILABLE');
  });
});
