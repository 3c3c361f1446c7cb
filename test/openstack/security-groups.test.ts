import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { neutronDefaultGroupName } from '../../src/backends/openstack/security-group-names.js';
import { tenantTag } from '../../src/backends/openstack/marks.js';
import type { Connection } from '../../src/openstack/index.js';
import { describeSecurityGroupContract } from '../contract/security-group-contract.js';
import type { ContractTarget } from '../contract/vm-contract.js';
import { ApiClient, type VmBody } from '../support/api-client.js';
import { startApp, type RunningApp } from '../support/memory-app.js';
import { catalogNames, demoConnection, demoEnv } from './mini-openstack.js';

const ADMIN = 'sg-openstack-admin-key-0123456789abcdef';

/** The API on the local cloud with AUTH_MODE=keys and two tenants (both in the demo project, told apart by tags). */
async function twoTenantTarget(): Promise<ContractTarget & { app: RunningApp }> {
  const app = await startApp(demoEnv({ AUTH_MODE: 'keys', ADMIN_API_KEY: ADMIN }));
  const admin = new ApiClient(app.baseUrl, { authorization: `Bearer ${ADMIN}` });
  const keyOf = async (name: string) => {
    const created = await admin.call<{ initial_key: { secret: string } }>('POST', '/api/v1/tenants', { body: { name } });
    if (created.status !== 201) throw new Error(`tenant ${name}: ${created.status}`);
    return { authorization: `Bearer ${created.body.initial_key.secret}` };
  };
  const suffix = randomBytes(3).toString('hex');
  return { app, baseUrl: app.baseUrl, close: () => app.close(), ...catalogNames, headers: await keyOf(`sg-a-${suffix}`), otherTenant: await keyOf(`sg-b-${suffix}`) };
}

/** Tenants made by a test leave their `default` group behind in Neutron (the API never deletes one): removed here. */
async function dropTenantDefaults(neutron: Connection, tenants: readonly string[]): Promise<void> {
  for (const tenant of tenants) {
    for (const group of await neutron.network.listSecurityGroups({ tags: [tenantTag(tenant)] })) {
      await neutron.network.deleteSecurityGroup(group.id).catch(() => undefined);
    }
  }
}

let tenantsMade: string[] = [];

describeSecurityGroupContract(
  'OpenStack backend, two tenants',
  async () => {
    const target = await twoTenantTarget();
    const whoami = async (headers: Record<string, string> | undefined) =>
      (await new ApiClient(target.baseUrl, headers).call<{ tenant: { id: string } }>('GET', '/api/v1/whoami')).body.tenant.id;
    tenantsMade = [await whoami(target.headers), await whoami(target.otherTenant)];
    return target;
  },
  { twoTenants: true },
);

describe('our API and Neutron agree on security groups (BACKEND=openstack)', () => {
  let app: RunningApp;
  let api: ApiClient;
  let neutron: Connection;
  const prefix = `sgx-${randomBytes(3).toString('hex')}`;
  const vms: string[] = [];
  const groups: string[] = [];

  beforeAll(async () => {
    app = await startApp(demoEnv());
    api = new ApiClient(app.baseUrl);
    neutron = demoConnection();
  });

  afterAll(async () => {
    await Promise.all(vms.map((id) => api.deleteVm(id)));
    await Promise.all(vms.map((id) => api.settled(id, 120_000).catch(() => undefined)));
    for (const id of groups) {
      for (let attempt = 0; attempt < 40; attempt++) {
        if ((await api.call('DELETE', `/api/v1/security-groups/${id}`)).status !== 409) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    await app.close();
    await dropTenantDefaults(neutron, tenantsMade);
  });

  it('keeps a group in Neutron tagged with the tenant, with the rule as made; the default is the tenant\'s own', async () => {
    const group = (await api.call<{ id: string; name: string }>('POST', '/api/v1/security-groups', { body: { name: `${prefix}-web` } })).body;
    groups.push(group.id);
    const rule = (
      await api.call<{ id: string }>('POST', `/api/v1/security-groups/${group.id}/rules`, {
        body: { direction: 'ingress', protocol: 'tcp', port_min: 22, port_max: 23, remote_cidr: '10.0.0.0/8' },
      })
    ).body;
    // Listed by id, not GET /security-groups/{id}, which the local cloud's Neutron cannot answer (NetworkProxy.getSecurityGroup).
    const [inNeutron] = await neutron.network.listSecurityGroups({ id: group.id });
    if (!inNeutron) throw new Error(`Neutron has no group ${group.id}`);
    expect(inNeutron.name).toBe(`${prefix}-web`);
    expect(inNeutron.tags).toEqual([tenantTag('default')]);
    expect(inNeutron.security_group_rules.find((r) => r.id === rule.id)).toMatchObject({
      direction: 'ingress',
      protocol: 'tcp',
      port_range_min: 22,
      port_range_max: 23,
      remote_ip_prefix: '10.0.0.0/8',
      ethertype: 'IPv4',
    });
    const ourDefault = (await api.call<{ id: string }>('GET', '/api/v1/security-groups/default')).body;
    const projectDefault = (await neutron.network.listSecurityGroups({ name: 'default' })).map((g) => g.id);
    expect(projectDefault).not.toContain(ourDefault.id);
    expect((await neutron.network.listSecurityGroups({ id: ourDefault.id }))[0]?.name).toBe(neutronDefaultGroupName);
  });

  it('puts the groups of a create, and of an attach, on the server\'s ports (by id), and takes a detached one off', async () => {
    const web = (await api.call<{ id: string; name: string }>('POST', '/api/v1/security-groups', { body: { name: `${prefix}-a` } })).body;
    groups.push(web.id);
    const ourDefault = (await api.call<{ id: string }>('GET', '/api/v1/security-groups/default')).body;
    const vm = await api.createSettled({ name: `${prefix}-vm`, flavor: catalogNames.flavors.small, image: catalogNames.image, security_groups: ['default', web.id] });
    vms.push(vm.id);
    const portGroups = async () => (await neutron.network.listDevicePorts(vm.id)).map((p) => [...p.security_groups].sort());
    expect(await portGroups()).toEqual([[ourDefault.id, web.id].sort()]);
    const detached = await api.call<VmBody & { security_groups: string[] }>('DELETE', `/api/v1/vms/${vm.id}/security-groups/${web.name}`);
    expect([detached.status, detached.body.security_groups]).toEqual([200, ['default']]);
    expect(await portGroups()).toEqual([[ourDefault.id]]);
    const attached = await api.call<VmBody & { security_groups: string[] }>('POST', `/api/v1/vms/${vm.id}/security-groups`, { body: { security_group: web.id } });
    expect(attached.status).toBe(200);
    expect(await portGroups()).toEqual([[ourDefault.id, web.id].sort()]);
    // Nova's own view of the server names the groups too (it reads them from the ports).
    const server = await neutron.compute.getServer(vm.id);
    expect((server.security_groups ?? []).map((g) => g.name).sort()).toEqual([neutronDefaultGroupName, web.name].sort());
  });
});
