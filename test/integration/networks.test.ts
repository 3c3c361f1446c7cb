import { afterEach, describe, expect, it } from 'vitest';
import { networkQuotas } from '../../src/domain/network.js';
import { ApiClient, type ProblemBody, type VmBody } from '../support/api-client.js';
import { startApp, type RunningApp } from '../support/memory-app.js';

type Vm = VmBody & { networks: { id: string; name: string; ip_address: string | null }[]; floating_ip: string | null };

/** The memory backend's own rules of section 9: its quotas, pools and what a VM's delete does. */
describe('networks and floating IPs on the memory backend', () => {
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  const start = async (env: Record<string, string> = {}) => {
    app = await startApp({ LOG_LEVEL: 'warn', MOCK_EXTRA_FLAVORS: 'huge:1:1000000:1', ...env });
    return new ApiClient(app.baseUrl);
  };
  const fip = async (api: ApiClient) => api.call<{ id: string; address: string; vm_id: string | null; status: string }>('POST', '/api/v1/floating-ips');

  it('hands out MOCK_FLOATING_CIDR\'s addresses until the pool is empty (409 POOL_EXHAUSTED), and a released one again', async () => {
    const api = await start({ MOCK_FLOATING_CIDR: '198.51.100.0/29' });
    const taken = [];
    for (let i = 0; i < 5; i++) taken.push((await fip(api)).body);
    expect(taken.map((f) => f.address)).toEqual(['198.51.100.2', '198.51.100.3', '198.51.100.4', '198.51.100.5', '198.51.100.6']);
    const empty = await fip(api);
    expect(empty.status).toBe(409);
    expect((empty.body as unknown as ProblemBody).code).toBe('POOL_EXHAUSTED');
    await api.call('DELETE', `/api/v1/floating-ips/${taken[2]?.id}`);
    expect((await fip(api)).body.address).toBe('198.51.100.4');
    const publicNet = await api.call<{ cidr: string; gateway_ip: string }>('GET', '/api/v1/networks/public');
    expect(publicNet.body).toMatchObject({ cidr: '198.51.100.0/29', gateway_ip: '198.51.100.1' });
  });

  it(`refuses the floating IP past Neutron's default quota (${networkQuotas.floatingip}) with 403 QUOTA_EXCEEDED`, async () => {
    const api = await start();
    for (let i = 0; i < networkQuotas.floatingip; i++) expect((await fip(api)).status).toBe(201);
    const over = await fip(api);
    expect(over.status).toBe(403);
    expect((over.body as unknown as ProblemBody).code).toBe('QUOTA_EXCEEDED');
  });

  it(`refuses the network past Neutron's default quota (${networkQuotas.network}) with 403 QUOTA_EXCEEDED`, async () => {
    const api = await start();
    for (let i = 0; i < networkQuotas.network; i++) {
      const made = await api.call('POST', '/api/v1/networks', { body: { name: `n-${i}`, cidr: `10.${i}.0.0/16` } });
      expect(made.status).toBe(201);
    }
    const over = await api.call<ProblemBody>('POST', '/api/v1/networks', { body: { name: 'one-too-many', cidr: '10.250.0.0/16' } });
    expect(over.status).toBe(403);
    expect(over.body.code).toBe('QUOTA_EXCEEDED');
  });

  it('a deleted VM lets go of its floating IP (kept by the tenant, DOWN) and of its address on each network', async () => {
    const api = await start();
    const net = (await api.call<{ id: string }>('POST', '/api/v1/networks', { body: { name: 'small', cidr: '10.1.0.0/29' } })).body;
    const vm = (await api.createSettled({ name: 'web', flavor: 'm1.tiny', image: 'ubuntu-22.04', networks: ['small', 'private'] })) as Vm;
    expect(vm.networks.map((n) => n.name)).toEqual(['small', 'private']);
    expect(vm.ip_address).toBe('10.1.0.2');
    const f = (await fip(api)).body;
    const before = await api.getVm(vm.id);
    await api.call('POST', `/api/v1/floating-ips/${f.id}/associate`, { body: { vm: vm.id } });
    const after = await api.getVm(vm.id);
    expect((after.body as Vm).floating_ip).toBe(f.address);
    expect(after.headers.get('etag')).not.toBe(before.headers.get('etag'));
    expect((await api.call<{ status: string }>('GET', `/api/v1/floating-ips/${f.id}`)).body.status).toBe('ACTIVE');

    await api.deleteVm(vm.id);
    expect((await api.call<{ vm_id: string | null; status: string }>('GET', `/api/v1/floating-ips/${f.id}`)).body).toMatchObject({ vm_id: null, status: 'DOWN' });
    const next = (await api.createSettled({ name: 'web-2', flavor: 'm1.tiny', image: 'ubuntu-22.04', networks: [net.id] })) as Vm;
    expect(next.ip_address).toBe('10.1.0.2');
    expect((await api.call('DELETE', `/api/v1/networks/${net.id}`)).status).toBe(409);
  });

  it('a VM on a full network goes to ERROR (NO_IP_AVAILABLE) holding no address elsewhere; such a VM takes no floating IP (409 VM_UNREACHABLE)', async () => {
    const api = await start();
    await api.call('POST', '/api/v1/networks', { body: { name: 'tiny', cidr: '10.2.0.0/29' } });
    for (let i = 0; i < 5; i++) expect((await api.createSettled({ name: `t-${i}`, flavor: 'm1.tiny', image: 'ubuntu-22.04', networks: ['tiny'] })).status).toBe('STOPPED');
    const full = (await api.createSettled({ name: 't-5', flavor: 'm1.tiny', image: 'ubuntu-22.04', networks: ['private', 'tiny'] })) as Vm;
    expect(full.status).toBe('ERROR');
    expect(full.fault?.code).toBe('NO_IP_AVAILABLE');
    expect(full.fault?.message).toContain('10.2.0.0/29');
    expect(full.networks.map((n) => n.ip_address)).toEqual([null, null]);
    const onPrivate = (await api.createSettled({ name: 'p', flavor: 'm1.tiny', image: 'ubuntu-22.04' })) as Vm;
    expect(onPrivate.ip_address).toBe('192.168.1.2');

    const f = (await fip(api)).body;
    const refused = await api.call<ProblemBody>('POST', `/api/v1/floating-ips/${f.id}/associate`, { body: { vm: full.id } });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('VM_UNREACHABLE');
  });

  it('a deleted VM takes no floating IP (404), and the cloud\'s shared network cannot be renamed (403)', async () => {
    const api = await start();
    const vm = await api.createSettled({ name: 'gone', flavor: 'm1.tiny', image: 'ubuntu-22.04' });
    await api.deleteVm(vm.id);
    const f = (await fip(api)).body;
    expect((await api.call<ProblemBody>('POST', `/api/v1/floating-ips/${f.id}/associate`, { body: { vm: vm.id } })).body.code).toBe('VM_NOT_FOUND');
    expect((await api.call<ProblemBody>('PATCH', '/api/v1/networks/private', { body: { name: 'mine' } })).status).toBe(403);
  });

  it('an Idempotency-Key replays a create with the same networks and refuses it with others (422)', async () => {
    const api = await start();
    await api.call('POST', '/api/v1/networks', { body: { name: 'a', cidr: '10.3.0.0/24' } });
    const body = { name: 'idem', flavor: 'm1.tiny', image: 'ubuntu-22.04', networks: ['a'] };
    const first = await api.createVm(body, { 'Idempotency-Key': 'k-1' });
    const replay = await api.createVm(body, { 'Idempotency-Key': 'k-1' });
    expect(replay.body.id).toBe(first.body.id);
    const other = await api.createVm({ ...body, networks: ['private'] }, { 'Idempotency-Key': 'k-1' });
    expect(other.status).toBe(422);
  });

  it('a reader lists networks but may not create one (403)', async () => {
    app = await startApp({ LOG_LEVEL: 'warn', API_READONLY_KEYS: 'reader-key-0123456789abcdef0123456789' });
    const reader = new ApiClient(app.baseUrl, { authorization: 'Bearer reader-key-0123456789abcdef0123456789' });
    expect((await reader.call('GET', '/api/v1/networks')).status).toBe(200);
    expect((await reader.call<ProblemBody>('POST', '/api/v1/networks', { body: { name: 'x', cidr: '10.0.0.0/24' } })).body.code).toBe('FORBIDDEN');
  });
});
