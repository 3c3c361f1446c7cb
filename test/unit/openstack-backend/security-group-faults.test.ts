import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiClient, type ProblemBody } from '../../support/api-client.js';
import { startApp, type RunningApp } from '../../support/memory-app.js';
import { FakeNeutronSecurityGroups } from '../openstack/fake-neutron-security-groups.js';
import { FakeOpenStack, fakeCloudEnv } from '../openstack/fake-openstack.js';

let fake: FakeOpenStack;
let neutron: FakeNeutronSecurityGroups;
let app: RunningApp;
let api: ApiClient;

beforeEach(async () => {
  fake = await FakeOpenStack.start({ cloud: true });
  neutron = new FakeNeutronSecurityGroups(fake);
  app = await startApp({
    ...fakeCloudEnv(fake),
    LOG_LEVEL: 'warn',
    OS_TIMEOUT_MS: '1000',
  });
  api = new ApiClient(app.baseUrl);
});

afterEach(async () => {
  await app.close();
  await fake.close();
});

const post = (path: string, body: unknown) => api.call<ProblemBody & { id: string; upstream?: string }>('POST', `/api/v1${path}`, { body });

describe('security groups when Neutron fails (OpenStack backend)', () => {
  it('leaves no untagged group behind when the tag cannot be set, and answers 502', async () => {
    expect((await api.call('GET', '/api/v1/security-groups')).status).toBe(200);
    const before = neutron.groups.size;
    fake.fail(/^PUT \/network\/v2\.0\/security-groups\/[^/]+\/tags$/, { status: 500, body: { NeutronError: { type: 'Boom', message: 'boom', detail: '' } } }, 10);
    const response = await post('/security-groups', { name: 'web' });
    expect([response.status, response.body.code, response.body.upstream]).toEqual([502, 'BACKEND_UNAVAILABLE', 'error']);
    expect(neutron.groups.size).toBe(before);
    expect(JSON.stringify(response.body)).not.toContain('boom');
  });

  it('answers 504 when Neutron does not answer in time, and 503 when it cannot be reached', async () => {
    fake.route('GET', '/network/v2.0/security-groups', () => 'hang');
    const slow = await api.call<ProblemBody>('GET', '/api/v1/security-groups');
    expect([slow.status, slow.body.code]).toEqual([504, 'BACKEND_TIMEOUT']);
    fake.fail(/^GET \/network\/v2\.0\/security-groups$/, 'destroy', 10);
    const gone = await api.call<ProblemBody>('GET', '/api/v1/security-groups/6a1f0e3c-2b4d-4c8e-9f7a-1d2e3f4a5b6c');
    expect([gone.status, gone.body.code]).toEqual([503, 'BACKEND_UNAVAILABLE']);
  });

  it('answers Neutron\'s quota as 403 QUOTA_EXCEEDED, naming no upstream text', async () => {
    neutron.quota = 1;
    const response = await post('/security-groups', { name: 'web' });
    expect([response.status, response.body.code]).toEqual([403, 'QUOTA_EXCEEDED']);
  });

  it('makes a tenant\'s default once however many first requests race for it', async () => {
    const answers = await Promise.all(Array.from({ length: 5 }, () => api.call<{ id: string }>('GET', '/api/v1/security-groups/default')));
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect([...neutron.groups.values()].filter((g) => g.name === 'vmapi-default')).toHaveLength(1);
  });

  it('refuses an attach to a VM that has no port yet with 409, changing nothing', async () => {
    const vm = await api.createSettled({ name: 'vm-1', flavor: 'm1.tiny', image: 'cirros-0.6' });
    for (const [id, port] of neutron.ports) if (port.deviceId === vm.id) neutron.ports.delete(id);
    const response = await post(`/vms/${vm.id}/security-groups`, { security_group: 'default' });
    expect([response.status, response.body.code]).toEqual([409, 'INVALID_STATE_TRANSITION']);
  });

  it('shows rules Neutron holds that the API has no words for (a remote group, another protocol) as absent, not wrong', async () => {
    const group = (await post('/security-groups', { name: 'web' })).body;
    const stored = neutron.groups.get(group.id);
    stored?.security_group_rules.push(
      { id: 'r1', security_group_id: group.id, direction: 'ingress', protocol: 'gre', port_range_min: null, port_range_max: null, remote_ip_prefix: null, remote_group_id: null, ethertype: 'IPv4' },
      { id: 'r2', security_group_id: group.id, direction: 'ingress', protocol: null, port_range_min: null, port_range_max: null, remote_ip_prefix: null, remote_group_id: group.id, ethertype: 'IPv4' },
      { id: 'r3', security_group_id: group.id, direction: 'ingress', protocol: 'ipv6-icmp', port_range_min: null, port_range_max: null, remote_ip_prefix: null, remote_group_id: null, ethertype: 'IPv6' },
    );
    const shown = (await api.call<{ rules: { id: string; protocol: string | null }[] }>('GET', `/api/v1/security-groups/${group.id}`)).body.rules;
    expect(shown.map((r) => r.id)).not.toContain('r1');
    expect(shown.map((r) => r.id)).not.toContain('r2');
    expect(shown.find((r) => r.id === 'r3')?.protocol).toBe('icmp');
  });
});
