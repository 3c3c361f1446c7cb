/**
 * What the API itself spends on GET /networks/{id}, /security-groups/{id} and /volumes/{id} on the
 * OpenStack backend, measured against the unit tests' fake OpenStack (test/unit/openstack/
 * fake-openstack.ts), which answers at once, so that the real cloud's noise is out of the figure:
 *
 *   npx tsx bench/openstack-overhead.ts [--requests 2000] [--log-level info] ["--child-flags=--cpu-prof --cpu-prof-dir=/tmp/prof"]
 *
 * The API runs alone in a child process (logging to /dev/null at --log-level; a --cpu-prof of it
 * holds only the API). Per resource: the API process's CPU time per GET (process.cpuUsage around
 * the measured GETs), the upstream calls one GET makes, and the medians of the GET through the API
 * and straight to the fake (alternating). GET /flavors/{name} is answered from the API's cached
 * catalog with no upstream call: its CPU is the floor every GET pays (HTTP in and out, Express, the
 * middleware, the request log), and the difference to it is the upstream call and the adapter's work.
 * A report: exits 0 whatever the figures.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { buildApp } from '../src/app.js';
import { tenantTag } from '../src/backends/openstack/marks.js';
import { createBackend } from '../src/backends/create-backend.js';
import { parseConfig } from '../src/config/config.js';
import { FakeOpenStack, fakeCloudEnv } from '../test/unit/openstack/fake-openstack.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    'log-level': { type: 'string', default: 'info' },
    serve: { type: 'string' },
    'child-flags': { type: 'string', default: '' },
  },
});

const NET_ID = '5b7a3c1e-0000-4000-8000-000000000001';
const SG_ID = '5b7a3c1e-0000-4000-8000-000000000002';
const VOL_ID = '5b7a3c1e-0000-4000-8000-000000000003';
const VOL_BASE = '/volume/v3/p1';
const WARMUP = 200;
const ROUNDS = 5;

/** The child: the API alone, telling its port, then its CPU time (microseconds) whenever asked. */
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
  process.on('message', () => {
    const { user, system } = process.cpuUsage();
    process.send?.({ cpuUs: user + system });
  });
  process.on('disconnect', () => process.exit(0));
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** Bodies shaped as Neutron's and Cinder's (Zed), with the fields they carry beyond what the API reads. */
function routes(fake: FakeOpenStack): void {
  const tag = tenantTag('default');
  const times = { created_at: '2026-11-23T16:41:08Z', updated_at: '2026-11-23T16:41:10Z', revision_number: 2, project_id: 'p', tenant_id: 'p' };
  const network = { id: NET_ID, name: 'bench-net', status: 'ACTIVE', subnets: [], 'router:external': false, tags: [tag], admin_state_up: true, mtu: 1450, shared: false, availability_zone_hints: [], availability_zones: [], description: '', port_security_enabled: true, ...times };
  fake.route('GET', `/network/v2.0/networks/${NET_ID}`, { status: 200, body: { network } });
  const rule = (i: number, direction: string) => ({ id: `r-${i}`, security_group_id: SG_ID, direction, protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_ip_prefix: '0.0.0.0/0', remote_group_id: null, ethertype: 'IPv4', description: '', tags: [], standard_attr_id: i, ...times });
  const group = { id: SG_ID, name: 'bench-sg', description: '', stateful: true, security_group_rules: [rule(1, 'egress'), rule(2, 'egress'), rule(3, 'ingress')], tags: [tag], ...times };
  fake.route('GET', '/network/v2.0/security-groups', { status: 200, body: { security_groups: [group] } });
  fake.route('GET', `/network/v2.0/security-groups/${SG_ID}`, { status: 200, body: { security_group: group } });
  fake.catalog.push({ type: 'block-storage', name: 'cinder', endpoints: [{ interface: 'public', region_id: 'RegionOne', region: 'RegionOne', url: `${fake.url}${VOL_BASE}` }] });
  fake.route('GET', '/volume/v3/', { status: 200, body: { versions: [{ id: 'v3.0', version: '3.70', min_version: '3.0', status: 'CURRENT' }] } });
  const volume = { id: VOL_ID, name: 'bench-vol', description: null, size: 1, status: 'available', attachments: [], metadata: { 'vmapi-tenant': 'default' }, created_at: '2026-11-23T19:06:55.000000', updated_at: '2026-11-23T19:06:56.000000', bootable: 'false', encrypted: false, multiattach: false, volume_type: 'lvmdriver-1', availability_zone: 'nova', user_id: 'u', 'os-vol-tenant-attr:tenant_id': 'p', replication_status: null, snapshot_id: null, source_volid: null, consistencygroup_id: null, group_id: null, provider_id: null, service_uuid: 'x', shared_targets: true, cluster_name: null, volume_type_id: 't', consumes_quota: true };
  fake.route('GET', `${VOL_BASE}/volumes/${VOL_ID}`, { status: 200, body: { volume } });
}

async function main(): Promise<void> {
  const requests = Number(values.requests);
  const fake = await FakeOpenStack.start({ cloud: true });
  routes(fake);
  const env = fakeCloudEnv(fake, { LOG_LEVEL: String(values['log-level']) });
  const child = fork(new URL(import.meta.url).pathname, ['--serve', JSON.stringify(env)], {
    execArgv: ['--import', 'tsx', ...String(values['child-flags']).split(' ').filter(Boolean)],
  });
  const [ready] = (await once(child, 'message')) as [{ port: number }];
  const baseUrl = `http://127.0.0.1:${ready.port}`;
  const cpuOf = async (): Promise<number> => {
    child.send('cpu');
    const [reply] = (await once(child, 'message')) as [{ cpuUs: number }];
    return reply.cpuUs;
  };
  const get = async (url: string, headers: Record<string, string> = {}): Promise<number> => {
    const started = performance.now();
    const response = await fetch(url, { headers: { Accept: 'application/json', ...headers } });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`${url} answered ${response.status}: ${text.slice(0, 300)}`);
    JSON.parse(text);
    return performance.now() - started;
  };
  const cases: { name: string; path: string; direct?: string }[] = [
    { name: 'flavor (no upstream call)', path: '/api/v1/flavors/m1.tiny' },
    { name: 'network', path: `/api/v1/networks/${NET_ID}`, direct: `${fake.url}/network/v2.0/networks/${NET_ID}` },
    { name: 'security group', path: `/api/v1/security-groups/${SG_ID}`, direct: `${fake.url}/network/v2.0/security-groups/${SG_ID}` },
    { name: 'volume', path: `/api/v1/volumes/${VOL_ID}`, direct: `${fake.url}${VOL_BASE}/volumes/${VOL_ID}` },
  ];
  console.log(`API overhead against an instant fake cloud: node ${process.version}, ${requests} GETs each, log level ${String(values['log-level'])}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  try {
    for (const c of cases) for (let i = 0; i < WARMUP; i++) await get(`${baseUrl}${c.path}`);
    // In rounds, the cases taking turns, so that a burst of load on the machine falls on all alike.
    const cpuUs = new Map<string, number>();
    const apiMs = new Map<string, number[]>();
    const directMs = new Map<string, number[]>();
    const perRound = Math.ceil(requests / ROUNDS);
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of cases) {
        const before = await cpuOf();
        for (let i = 0; i < perRound; i++) await get(`${baseUrl}${c.path}`);
        cpuUs.set(c.name, (cpuUs.get(c.name) ?? 0) + (await cpuOf()) - before);
        if (c.direct === undefined) continue;
        for (let i = 0; i < perRound; i++) {
          const apiFirst = i % 2 === 0;
          const first = await get(apiFirst ? `${baseUrl}${c.path}` : c.direct, { 'X-Auth-Token': 'token-1' });
          const second = await get(apiFirst ? c.direct : `${baseUrl}${c.path}`, { 'X-Auth-Token': 'token-1' });
          apiMs.set(c.name, [...(apiMs.get(c.name) ?? []), apiFirst ? first : second]);
          directMs.set(c.name, [...(directMs.get(c.name) ?? []), apiFirst ? second : first]);
        }
      }
    }
    for (const c of cases) {
      const seen = fake.seen.length;
      await get(`${baseUrl}${c.path}`);
      const calls = fake.seen.slice(seen).map((s) => s.line.replace(/[0-9a-f-]{36}/g, '{id}'));
      const cpuMs = (cpuUs.get(c.name) ?? 0) / (perRound * ROUNDS) / 1000;
      const a = apiMs.get(c.name);
      const d = directMs.get(c.name);
      const latency = a && d ? `; median API ${median(a).toFixed(2)} ms vs fake ${median(d).toFixed(2)} ms (API adds ${(median(a) - median(d)).toFixed(2)} ms)` : '';
      console.log(`  ${c.name.padEnd(26)} API CPU ${cpuMs.toFixed(3)} ms a GET; upstream: ${calls.join(', ') || 'none'}${latency}`);
    }
  } finally {
    child.disconnect();
    await once(child, 'exit');
    await fake.close();
  }
  console.log(`  load average at the end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

(values.serve !== undefined ? serve(values.serve) : main()).then(
  () => {
    if (values.serve === undefined) process.exit(0);
  },
  (err: unknown) => {
    console.error('bench/openstack-overhead failed:', err);
    process.exit(1);
  },
);
