import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../../src/openstack/index.js';
import { ApiClient, type ProblemBody } from '../support/api-client.js';
import { startApp, type RunningApp } from '../support/memory-app.js';
import { catalogNames, demoConnection, demoEnv } from './mini-openstack.js';

/**
 * Requests that Nova refuses with a 400 because of the client's choice reach the client as a 400
 * naming the field, and leave nothing behind in Nova. The images come from scripts/openstack
 * (bootstrap.py: `needs-10g-disk` has min_disk 10 GB, `needs-1g-ram` min_ram 1024 MB; m1.tiny has
 * a 1 GB disk and 512 MB).
 */
describe("Nova's 400s are the client's 400s (BACKEND=openstack)", () => {
  let app: RunningApp;
  let api: ApiClient;
  let nova: Connection;
  const prefix = `n400-${randomBytes(3).toString('hex')}`;
  const created: string[] = [];

  beforeAll(async () => {
    app = await startApp(demoEnv());
    api = new ApiClient(app.baseUrl);
    nova = demoConnection();
  });

  afterAll(async () => {
    await Promise.all(created.map((id) => api.deleteVm(id)));
    await app.close();
  });

  const refusedCreate = async (image: string, name: string) => {
    const response = await api.call<ProblemBody>('POST', '/api/v1/vms', {
      body: { name, flavor: catalogNames.flavors.small, image },
    });
    if (response.status < 300) created.push((response.body as unknown as { id: string }).id);
    return response;
  };

  it("answers a flavor whose disk is below the image's min_disk with 400 naming body.flavor, and Nova holds no server", async () => {
    const name = `${prefix}-disk`;
    const response = await refusedCreate('needs-10g-disk', name);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(response.body.code).toBe('VALIDATION_ERROR');
    expect(response.body.errors).toEqual([{ path: 'body.flavor', message: expect.stringMatching(/1 GiB.*10 GiB/) as string }]);
    expect((await nova.compute.listServers({ name: `^${name}$` })).servers).toEqual([]);
  });

  it("answers a flavor whose memory is below the image's min_ram with 400 naming body.flavor", async () => {
    const response = await refusedCreate('needs-1g-ram', `${prefix}-ram`);
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('VALIDATION_ERROR');
    expect(response.body.errors).toEqual([{ path: 'body.flavor', message: expect.stringMatching(/memory/) as string }]);
  });

  it('answers a resize to a flavor too small for the VM image with 400 naming body.flavor; the VM keeps its flavor', async () => {
    const vm = await api.createSettled({ name: `${prefix}-resize`, flavor: catalogNames.flavors.larger, image: 'needs-10g-disk', start: true });
    created.push(vm.id);
    expect(vm.status).toBe('RUNNING');
    const response = await api.call<ProblemBody>('POST', `/api/v1/vms/${vm.id}/resize`, { body: { flavor: catalogNames.flavors.small } });
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('VALIDATION_ERROR');
    expect(response.body.errors?.[0]?.path).toBe('body.flavor');
    const after = (await api.settled(vm.id)).body;
    expect(after).toMatchObject({ status: 'RUNNING', task: null, flavor: catalogNames.flavors.larger });
  });
});
