/**
 * The API's own time on GET /networks/{id}, /security-groups/{id} and /volumes/{id}, against the
 * unit tests' fake OpenStack (test/unit/openstack/fake-openstack.ts), which answers in well under a
 * millisecond: API median minus direct median is what the API adds, free of the real cloud's noise.
 *
 *   npx tsx bench/openstack-overhead.ts [--requests 2000] [--log-level info]
 */
import { parseArgs } from 'node:util';
import { FakeOpenStack, fakeCloudEnv } from '../test/unit/openstack/fake-openstack.js';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { buildApp } from '../src/app.js';
import { createBackend } from '../src/backends/create-backend.js';
import { parseConfig } from '../src/config/config.js';
import { tenantTag } from '../src/backends/openstack/marks.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    'log-level': { type: 'string', default: 'info' },
    serve: { type: 'string' },
    'child-flags': { type: 'string', default: '' },
  },
});

/** The API alone in a child process (so that a --cpu-prof of it holds only the API), logging to /dev/null. */
async function serve(envJson: string): Promise<void> {
  const parsed = parseConfig(JSON.parse(envJson) as Record<string, string>);
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  const { config } = parsed;
  const logger = pino({ level: config.LOG_LEVEL }, pino.destination('/dev/null'));
  const backend = await createBackend(config, logger);
  const stopping = new AbortController();
  const server = buildApp({ config, backend, logger, shutdownSignal: stopping.signal }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  process.send?.({ port: (server.address() as AddressInfo).port });
  // Asked for its CPU time (user + system, microseconds) before and after each measure.
  process.on('message', () => {
    const { user, system } = process.cpuUsage();
    process.send?.({ cpuUs: user + system });
  });
  process.on('disconnect', () => process.exit(0));
}
const requests = Number(values.requests);
const NET_ID = '5b7a3c1e-0000-4000-8000-000000000001';
const SG_ID = '5b7a3c1e-0000-4000-8000-000000000002';
const VOL_ID = '5b7a3c1e-0000-4000-8000-000000000003';
const VOL_BASE = '/volume/v3/p1';

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function main(): Promise<void> {
  const fake = await FakeOpenStack.start({ cloud: true });
  fake.catalog.push({ type: 'block-storage', name: 'cinder', endpoints: [{ interface: 'public', region_id: 'RegionOne', region: 'RegionOne', url: `${fake.url}${VOL_BASE}` }] });
  const tag = tenantTag('default');
  const network = { id: NET_ID, name: 'bench-net', status: 'ACTIVE', subnets: [], 'router:external': false, tags: [tag], created_at: '2026-11-23T16:41:08Z', updated_at: '2026-11-23T16:41:10Z', revision_number: 2, project_id: 'p', tenant_id: 'p', admin_state_up: true, mtu: 1450, shared: false, availability_zone_hints: [], availability_zones: [], description: '', port_security_enabled: true };
  fake.route('GET', `/network/v2.0/networks/${NET_ID}`, { status: 200, body: { network } });
  const rule = (i: number, direction: string) => ({ id: `r-${i}`, security_group_id: SG_ID, direction, protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_ip_prefix: '0.0.0.0/0', remote_group_id: null, ethertype: 'IPv4', description: '', tags: [], created_at: '2026-11-23T16:41:08Z', updated_at: '2026-11-23T16:41:08Z', revision_number: 0, project_id: 'p', tenant_id: 'p', standard_attr_id: i });
  const group = { id: SG_ID, name: 'bench-sg', description: '', project_id: 'p', tenant_id: 'p', stateful: true, security_group_rules: [rule(1, 'egress'), rule(2, 'egress'), rule(3, 'ingress')], tags: [tag], created_at: '2026-11-23T16:41:08Z', updated_at: '2026-11-23T16:41:08Z', revision_number: 1 };
  fake.route('GET', `/network/v2.0/security-groups`, { status: 200, body: { security_groups: [group] } });
  fake.route('GET', `/network/v2.0/security-groups/${SG_ID}`, { status: 200, body: { security_group: group } });
  fake.route('GET', '/volume/v3/', { status: 200, body: { versions: [{ id: 'v3.0', version: '3.70', min_version: '3.0', status: 'CURRENT' }] } });
  const volume = { id: VOL_ID, name: 'bench-vol', description: null, size: 1, status: 'available', attachments: [], metadata: { 'vmapi-tenant': 'default' }, created_at: '2026-11-23T19:06:55.000000', updated_at: '2026-11-23T19:06:56.000000', bootable: 'false', encrypted: false, multiattach: false, volume_type: 'lvmdriver-1', availability_zone: 'nova', user_id: 'u', 'os-vol-tenant-attr:tenant_id': 'p', replication_status: null, snapshot_id: null, source_volid: null, consistencygroup_id: null, group_id: null, provider_id: null, service_uuid: 'x', shared_targets: true, cluster_name: null, volume_type_id: 't', consumes_quota: true };
  fake.route('GET', `${VOL_BASE}/volumes/${VOL_ID}`, { status: 200, body: { volume } });
  const flags = String(values['child-flags']).split(' ').filter(Boolean);
  const child = fork(new URL(import.meta.url).pathname, ['--serve', JSON.stringify(fakeCloudEnv(fake, { LOG_LEVEL: String(values['log-level']) }))], {
    execArgv: ['--import', 'tsx', ...flags],
  });
  const [ready] = (await once(child, 'message')) as [{ port: number }];
  const app = { baseUrl: `http://127.0.0.1:${ready.port}` };
  const cpuOf = async (): Promise<number> => {
    child.send('cpu');
    const [reply] = (await once(child, 'message')) as [{ cpuUs: number }];
    return reply.cpuUs;
  };
  const token = 'token-x';
  const pairs: [string, string, string][] = [
    ['network', `/api/v1/networks/${NET_ID}`, `${fake.url}/network/v2.0/networks/${NET_ID}`],
    ['security group', `/api/v1/security-groups/${SG_ID}`, `${fake.url}/network/v2.0/security-groups/${SG_ID}`],
    ['volume', `/api/v1/volumes/${VOL_ID}`, `${fake.url}${VOL_BASE}/volumes/${VOL_ID}`],
  ];
  const get = async (url: string, headers: Record<string, string> = {}) => {
    const started = performance.now();
    const response = await fetch(url, { headers: { Accept: 'application/json', ...headers } });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`${url} answered ${response.status}: ${text.slice(0, 300)}`);
    JSON.parse(text);
    return performance.now() - started;
  };
  try {
    for (const [name, apiPath, direct] of pairs) {
      const apiMs: number[] = [];
      const directMs: number[] = [];
      for (let i = 0; i < 200; i++) await get(`${app.baseUrl}${apiPath}`);
      const cpuBefore = await cpuOf();
      for (let i = 0; i < requests; i++) apiMs.push(await get(`${app.baseUrl}${apiPath}`));
      const cpuUs = (await cpuOf()) - cpuBefore;
      for (let i = 0; i < requests; i++) {
        const d = await get(direct, { 'X-Auth-Token': token });
        const a = await get(`${app.baseUrl}${apiPath}`);
        directMs.push(d);
        apiMs.push(a);
      }
      const seen = fake.seen.length;
      await get(`${app.baseUrl}${apiPath}`);
      const calls = fake.seen.slice(seen).map((s) => s.line);
      console.log(`${name.padEnd(15)} API median ${median(apiMs).toFixed(3)} ms, direct ${median(directMs).toFixed(3)} ms, API adds ${(median(apiMs) - median(directMs)).toFixed(3)} ms; API process CPU ${(cpuUs / requests / 1000).toFixed(3)} ms a GET; upstream calls per GET: ${calls.join(', ')}`);
    }
  } finally {
    child.disconnect();
    await once(child, 'exit');
    await fake.close();
  }
}

(values.serve !== undefined ? serve(values.serve) : main()).then(() => values.serve === undefined && process.exit(0), (err: unknown) => { console.error(err); process.exit(1); });
