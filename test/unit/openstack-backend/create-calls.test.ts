/**
 * The upstream calls of a VM create with 2 networks and 2 security groups on the OpenStack backend
 * (issue 9's bench target), counted by the unit tests' fake cloud with a fake Neutron behind it.
 * The fewest Nova and Neutron allow: one Neutron list of the networks named by id (their tenant is
 * checked, and Nova takes only ids), one of the tenant's groups (names to ids, the tenant checked),
 * Nova's create; then the one read of the new server the answer shows. ARCHITECTURE.md
 * ("Networks and floating IPs") names them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenantTag } from '../../../src/backends/openstack/marks.js';
import { ApiClient } from '../../support/api-client.js';
import { startApp, type RunningApp } from '../../support/memory-app.js';
import { FakeNeutronSecurityGroups } from '../openstack/fake-neutron-security-groups.js';
import { FakeOpenStack, fakeCloudEnv, fixture } from '../openstack/fake-openstack.js';

const NET = '/network/v2.0';
const WEB = '0a000000-0000-4000-8000-000000000001';
const DB = '0a000000-0000-4000-8000-000000000002';

describe('a VM create with 2 networks and 2 security groups on OpenStack', () => {
  let fake: FakeOpenStack;
  let app: RunningApp;
  let api: ApiClient;

  beforeAll(async () => {
    fake = await FakeOpenStack.start({ cloud: true });
    new FakeNeutronSecurityGroups(fake);
    // The recorded `private` (OS_NETWORK) and two networks of the default tenant; filters as Neutron reads them.
    const tagged = (id: string, name: string) => ({ id, name, status: 'ACTIVE', subnets: [], 'router:external': false, tags: [tenantTag('default')], created_at: '2026-11-23T16:41:08Z' });
    const networks = [...fixture<{ networks: Record<string, unknown>[] }>('network-networks.json').networks, tagged(WEB, 'web'), tagged(DB, 'db')];
    fake.route('GET', `${NET}/networks`, (req) => {
      const ids = req.query.getAll('id');
      const names = req.query.getAll('name');
      const found = networks.filter((n) => (ids.length === 0 || ids.includes(String(n['id']))) && (names.length === 0 || names.includes(String(n['name']))));
      return { status: 200, body: { networks: found } };
    });
    app = await startApp({ ...fakeCloudEnv(fake), LOG_LEVEL: 'warn', OS_TIMEOUT_MS: '2000' });
    api = new ApiClient(app.baseUrl);
    for (const name of ['web', 'db']) expect((await api.call('POST', '/api/v1/security-groups', { body: { name } })).status).toBe(201);
  });

  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  const create = (name: string) =>
    api.call<{ id: string; networks: string[]; security_groups: string[] }>('POST', '/api/v1/vms', {
      body: { name, flavor: 'm1.tiny', image: 'cirros-0.6', start: true, networks: [WEB, DB], security_groups: ['web', 'db'] },
    });

  it('makes 4 upstream calls once the token and catalogs are cached: 2 Neutron lists, Nova\'s create and one read of the server', async () => {
    // The first create fills the caches (token, flavors, images, OS_NETWORK's id).
    expect([201, 202]).toContain((await create('warm')).status);
    const before = fake.seen.length;
    const response = await create('counted');
    // 201 when the fake's server is ACTIVE at the first read, 202 while it builds: the calls are the same.
    expect([201, 202]).toContain(response.status);
    const calls = fake.seen.slice(before).map((s) => `${s.method} ${s.path}${s.path.endsWith('/networks') ? s.url.slice(s.url.indexOf('?')) : ''}`);
    const id = response.body.id;
    expect(calls.sort()).toEqual(
      [
        `GET ${NET}/networks?id=${WEB}&id=${DB}`,
        `GET ${NET}/security-groups`,
        'POST /compute/v2.1/servers',
        `GET /compute/v2.1/servers/${id}`,
      ].sort(),
    );
    const [novaCreate] = fake.seen.slice(before).filter((s) => s.method === 'POST');
    const server = (novaCreate?.body as { server: { networks: unknown; security_groups: unknown } }).server;
    expect(server.networks).toEqual([{ uuid: WEB }, { uuid: DB }]);
    expect((server.security_groups as unknown[]).length).toBe(2);
  });
});
