import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type VmBody } from '../support/api-client.js';
import { startApp, type RunningApp } from '../support/memory-app.js';

let app: RunningApp;
let api: ApiClient;
beforeAll(async () => {
  app = await startApp({ MOCK_DELETED_RETENTION_S: '1' });
  api = new ApiClient(app.baseUrl);
});
afterAll(() => app.close());

describe('deleted VMs', () => {
  it('answer DELETED until MOCK_DELETED_RETENTION_S has passed, then 404, and leave the DELETED list', async () => {
    const vm = await api.createSettled({ name: 'short-lived', flavor: 'm1.tiny', image: 'debian-12', start: true });
    const deleted = await api.deleteVm(vm.id);
    expect([deleted.status, deleted.body.status, deleted.body.ip_address]).toEqual([200, 'DELETED', null]);
    expect((await api.getVm(vm.id)).body.status).toBe('DELETED');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await api.getVm(vm.id)).status).toBe(404);
    const listed = await api.call<{ data: VmBody[] }>('GET', '/api/v1/vms?status=DELETED');
    expect(listed.body.data).toEqual([]);
  });

  it('give their address back to the pool', async () => {
    const first = await api.createSettled({ name: 'first', flavor: 'm1.tiny', image: 'debian-12' });
    await api.deleteVm(first.id);
    const second = await api.createSettled({ name: 'second', flavor: 'm1.tiny', image: 'debian-12' });
    expect(second.ip_address).toBe(first.ip_address);
  });
});
