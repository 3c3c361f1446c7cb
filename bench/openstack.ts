/**
 * `npm run bench:openstack`: the API with BACKEND=openstack against the local OpenStack
 * (scripts/openstack/up.sh), in one run. A report, not a test: it prints each figure with its
 * target and PASS/FAIL, and exits 0 whatever the figures (non-zero only if something broke).
 *
 * 1. GET /api/v1/vms/{id} through the API vs the same GET /servers/{id} straight to Nova with a
 *    token of the same user, sequential, alternating, same count: median and p90; target API
 *    median <= 1.1x Nova's.
 * 2. Keystone token requests per 1,000 API calls, counted by a pass-through proxy in front of
 *    Keystone (the API's OS_AUTH_URL), start-up included; target <= 1.
 * 1b. GET /api/v1/networks/{id} vs GET /v2.0/networks/{id} straight to Neutron, the same way and
 *    target (a network made through the API for the run, deleted at the end).
 * 3. Upstream calls per list page (GET /api/v1/vms?limit=50) once the catalog caches are warm,
 *    counted by proxies in front of Nova, Glance and Neutron that the Keystone proxy's catalog
 *    points at (a second API instance, so that the proxies add nothing to the latency of 1.);
 *    target 1 (the server list) plus the cached catalogs.
 * 4. GET /api/v1/security-groups/{id} through the API vs the same Neutron call straight
 *    (GET /v2.0/security-groups?id=) with the same user's token, as 1.; target API median <= 1.1x Neutron's.
 *
 * The API runs in this process on 127.0.0.1 (app + backend built as src/server.ts does); all
 * traffic stays on loopback. The VMs it creates are deleted at the end, whatever happens.
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { buildApp } from '../src/app.js';
import { createBackend } from '../src/backends/create-backend.js';
import { parseConfig } from '../src/config/config.js';
import type { Backend } from '../src/repository/backend.js';
import { apiEnv, cloudIsUp, demoToken, directConnection, loadStack } from '../test/openstack/support/fault-env.js';
import { FaultProxy, TOKEN_PATH, startProxiedCloud, type StackInfo } from '../test/openstack/support/fault-proxy.js';

const API = '/api/v1';

const USAGE = `usage: npm run bench:openstack

env:
  MINI_OS_RUN=/tmp/mini-openstack   where up.sh wrote stack.json
  BENCH_OS_REQUESTS=200              sequential GETs each way (API and Nova), after the warm-up
  BENCH_OS_WARMUP=20                 warm-up GETs each way
  BENCH_OS_CALLS=1000                API calls counted for the token figure (the GETs above included)
  BENCH_OS_PAGES=20                  list pages counted for the upstream-calls figure
  BENCH_OS_VMS=4                     VMs made for the run (the GETs rotate over them)
  BENCH_OS_TIMEOUT_MS=10000          the API's OS_TIMEOUT_MS`;

const { values: cli } = parseArgs({ options: { help: { type: 'boolean', short: 'h' } } });
if (cli.help) {
  console.log(USAGE);
  process.exit(0);
}

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive whole number, got "${raw}"`);
  return value;
}

const settings = {
  requests: envNumber('BENCH_OS_REQUESTS', 200),
  warmup: envNumber('BENCH_OS_WARMUP', 20),
  calls: envNumber('BENCH_OS_CALLS', 1_000),
  pages: envNumber('BENCH_OS_PAGES', 20),
  vms: envNumber('BENCH_OS_VMS', 4),
  timeoutMs: envNumber('BENCH_OS_TIMEOUT_MS', 10_000),
};

// ---------------------------------------------------------------- the API in this process

interface RunningApi {
  baseUrl: string;
  close(): Promise<void>;
}

async function startApi(env: Record<string, string>): Promise<RunningApi> {
  const parsed = parseConfig({ ...env, LOG_LEVEL: 'warn' });
  if (!parsed.ok) throw new Error(`bad config: ${parsed.problems.join('; ')}`);
  const { config } = parsed;
  // Warnings and errors only, to stderr: the report stays readable, and failures are visible.
  const logger = pino({ level: config.LOG_LEVEL }, pino.destination(2));
  const backend: Backend = await createBackend(config, logger);
  const stopping = new AbortController();
  const app = buildApp({ config, backend, logger, shutdownSignal: stopping.signal });
  const server: Server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    async close() {
      stopping.abort();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await backend.close();
    },
  };
}

/** API calls made, per API instance (base URL). */
const apiCallCount = new Map<string, number>();

async function apiCall(baseUrl: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  apiCallCount.set(baseUrl, (apiCallCount.get(baseUrl) ?? 0) + 1);
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    ...(body !== undefined && { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await response.text();
  return { status: response.status, body: text.length > 0 ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Fails loudly: the bench measures working calls only. */
async function apiOk(baseUrl: string, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await apiCall(baseUrl, method, path, body);
  if (response.status >= 300) throw new Error(`${method} ${path} answered ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body;
}

async function waitSettled(baseUrl: string, id: string, timeoutMs = 120_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await apiCall(baseUrl, 'GET', `${API}/vms/${id}`);
    if (response.status === 200 && response.body['task'] === null) return response.body;
    if (response.status === 404) return response.body;
    if (Date.now() > deadline) throw new Error(`VM ${id} not settled after ${timeoutMs} ms: ${JSON.stringify(response.body)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

// ---------------------------------------------------------------- figures

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] as number;
}

function stats(samples: readonly number[]): { median: number; p90: number; min: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { median: quantile(sorted, 0.5), p90: quantile(sorted, 0.9), min: sorted[0] ?? Number.NaN, max: sorted[sorted.length - 1] ?? Number.NaN };
}

const ms = (value: number): string => `${value.toFixed(1)} ms`;

function verdict(pass: boolean, target: string, detail: string): string {
  return `  ${pass ? 'PASS' : 'FAIL'}  ${target}: ${detail}`;
}

// ---------------------------------------------------------------- run

async function main(): Promise<void> {
  const loaded = loadStack();
  if (typeof loaded === 'string') throw new Error(loaded);
  const stack: StackInfo = loaded;
  if (!(await cloudIsUp(stack))) throw new Error(`Keystone does not answer at ${stack.authUrl}; run: bash scripts/openstack/up.sh`);

  console.log('vm-lifecycle-api OpenStack bench');
  console.log(`  cloud: ${stack.authUrl} (demo project), node ${process.version}`);
  console.log(
    `  settings: ${settings.requests} GETs each way after ${settings.warmup} warm-up, ${settings.calls} API calls for tokens, ` +
      `${settings.pages} list pages, ${settings.vms} VMs, OS_TIMEOUT_MS ${settings.timeoutMs}`,
  );

  const cleanup: (() => Promise<unknown>)[] = [];
  const created: string[] = [];
  const runTag = `bench-os-${process.pid}-${Date.now().toString(36)}`;
  const direct = directConnection(stack, { timeoutMs: 30_000 });
  try {
    // A pass-through proxy in front of Keystone, only to count token requests: the catalog is
    // left as it is, so Nova, Glance and Neutron are reached directly.
    const keystone = await FaultProxy.start({ name: 'keystone', upstream: new URL(stack.authUrl).origin });
    cleanup.push(() => keystone.close());
    const authUrl = `${keystone.origin}${new URL(stack.authUrl).pathname.replace(/\/+$/, '')}`;
    const api = await startApi(apiEnv(stack, { OS_AUTH_URL: authUrl, OS_TIMEOUT_MS: String(settings.timeoutMs) }));
    cleanup.push(() => api.close());
    const apiCalls = (): number => apiCallCount.get(api.baseUrl) ?? 0;

    // ---- set-up: VMs made through the API
    console.log(`\n[setup] creating ${settings.vms} VMs through the API (${runTag}-*)`);
    const t0 = performance.now();
    const ids = await Promise.all(
      Array.from({ length: settings.vms }, async (_, i) => {
        const body = await apiOk(api.baseUrl, 'POST', `${API}/vms`, { name: `${runTag}-${i}`, flavor: 'm1.tiny', image: 'cirros-0.6', start: true });
        const id = String(body['id']);
        created.push(id);
        return id;
      }),
    );
    for (const id of ids) {
      const vm = await waitSettled(api.baseUrl, id);
      if (vm['status'] !== 'RUNNING') throw new Error(`VM ${id} settled ${String(vm['status'])}, not RUNNING`);
    }
    console.log(`  ${ids.length} VMs RUNNING in ${Math.round(performance.now() - t0)} ms`);

    // ---- 1. latency: API vs Nova, alternating
    const token = await demoToken(stack);
    const computeUrl = (await direct.endpoint('compute')).replace(/\/+$/, '');
    const microversion = direct.compute.microversion;
    const novaGet = async (id: string): Promise<void> => {
      const response = await fetch(`${computeUrl}/servers/${id}`, {
        headers: { 'X-Auth-Token': token, Accept: 'application/json', 'OpenStack-API-Version': `compute ${microversion}` },
      });
      const text = await response.text();
      if (response.status !== 200) throw new Error(`Nova GET /servers/${id} answered ${response.status}: ${text.slice(0, 200)}`);
      JSON.parse(text);
    };
    const apiGet = async (id: string): Promise<void> => {
      await apiOk(api.baseUrl, 'GET', `${API}/vms/${id}`);
    };
    const timeIt = async (fn: () => Promise<void>): Promise<number> => {
      const started = performance.now();
      await fn();
      return performance.now() - started;
    };

    console.log(`\n[1] GET by id: ${settings.warmup} warm-up + ${settings.requests} measured each way, alternating, ids rotating over ${ids.length} VMs`);
    const apiSamples: number[] = [];
    const novaSamples: number[] = [];
    for (let i = 0; i < settings.warmup + settings.requests; i++) {
      const id = ids[i % ids.length] as string;
      // Which goes first alternates too, so neither side always meets a just-warmed Nova.
      let apiMs: number;
      let novaMs: number;
      if (i % 2 === 0) {
        apiMs = await timeIt(() => apiGet(id));
        novaMs = await timeIt(() => novaGet(id));
      } else {
        novaMs = await timeIt(() => novaGet(id));
        apiMs = await timeIt(() => apiGet(id));
      }
      if (i >= settings.warmup) {
        apiSamples.push(apiMs);
        novaSamples.push(novaMs);
      }
    }
    const apiStats = stats(apiSamples);
    const novaStats = stats(novaSamples);

    // ---- 1b. GET /networks/{id}: API vs Neutron, alternating, the same token (docs/contract.md section 9)
    const network = await apiOk(api.baseUrl, 'POST', `${API}/networks`, { name: `${runTag}-net`, cidr: '10.213.0.0/24' });
    const networkId = String(network['id']);
    cleanup.push(() => apiCall(api.baseUrl, 'DELETE', `${API}/networks/${networkId}`));
    const neutronUrl = (await direct.endpoint('network')).replace(/\/+$/, '');
    const neutronGet = async (): Promise<void> => {
      const response = await fetch(`${neutronUrl}/v2.0/networks/${networkId}`, { headers: { 'X-Auth-Token': token, Accept: 'application/json' } });
      const text = await response.text();
      if (response.status !== 200) throw new Error(`Neutron GET /networks/${networkId} answered ${response.status}: ${text.slice(0, 200)}`);
      JSON.parse(text);
    };
    console.log(`[1b] GET /networks/{id}: ${settings.warmup} warm-up + ${settings.requests} measured each way, alternating`);
    const apiNetSamples: number[] = [];
    const neutronSamples: number[] = [];
    for (let i = 0; i < settings.warmup + settings.requests; i++) {
      const apiSide = () => timeIt(() => apiOk(api.baseUrl, 'GET', `${API}/networks/${networkId}`).then(() => undefined));
      const neutronSide = () => timeIt(neutronGet);
      let apiMs: number;
      let neutronMs: number;
      if (i % 2 === 0) {
        apiMs = await apiSide();
        neutronMs = await neutronSide();
      } else {
        neutronMs = await neutronSide();
        apiMs = await apiSide();
      }
      if (i >= settings.warmup) {
        apiNetSamples.push(apiMs);
        neutronSamples.push(neutronMs);
      }
    }
    const apiNetStats = stats(apiNetSamples);
    const neutronStats = stats(neutronSamples);

    // ---- 2. token requests per 1,000 API calls
    const remaining = Math.max(0, settings.calls - apiCalls());
    console.log(`[2] ${remaining} more API calls (VM reads, list pages, flavors, images; 4 at a time) to reach ${settings.calls}`);
    const paths = [`${API}/vms/${ids[0]}`, `${API}/vms?limit=50`, `${API}/flavors`, `${API}/images`];
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < remaining) {
          const path = paths[next++ % paths.length] as string;
          await apiOk(api.baseUrl, 'GET', path);
        }
      }),
    );
    const tokenPosts = keystone.count('POST', TOKEN_PATH);
    const totalCalls = apiCalls();
    const tokensPer1000 = (tokenPosts / totalCalls) * 1_000;

    // ---- 3. upstream calls per list page, through counting proxies
    console.log(`[3] a second API whose catalog points at counting proxies; ${settings.pages} list pages after a warm-up`);
    const proxied = await startProxiedCloud(stack);
    cleanup.push(() => proxied.close());
    const counting = await startApi(apiEnv(stack, { OS_AUTH_URL: proxied.authUrl, OS_TIMEOUT_MS: String(settings.timeoutMs) }));
    cleanup.push(() => counting.close());
    // Warm: token, flavors and images cached (a list page reads both catalogs to name things).
    await apiOk(counting.baseUrl, 'GET', `${API}/vms?limit=50`);
    await apiOk(counting.baseUrl, 'GET', `${API}/vms?limit=50`);
    await new Promise((r) => setTimeout(r, 300));
    proxied.resetAllCounts();
    let listed = 0;
    for (let i = 0; i < settings.pages; i++) {
      const page = await apiOk(counting.baseUrl, 'GET', `${API}/vms?limit=50`);
      listed += (page['data'] as unknown[]).length;
    }
    // Background calls a page may start (reconciling nudges) get a moment to land.
    await new Promise((r) => setTimeout(r, 500));
    const upstream = [proxied.nova, proxied.glance, proxied.neutron];
    const upstreamCalls = upstream.reduce((sum, p) => sum + p.seen.length, 0);
    const upstreamReads = upstream.reduce((sum, p) => sum + p.count('GET'), 0);
    const serverLists = proxied.nova.count('GET', /\/servers\/detail$/);
    const catalogCalls = proxied.nova.count('GET', /\/flavors/) + proxied.glance.count('GET', /\/images/);
    const breakdown = upstream.flatMap((p) => Object.entries(p.summary()).map(([call, n]) => `${p.name} ${call.replace(/[0-9a-f-]{36}/g, '{id}')} x${n}`));
    const byId = ids[0] as string;
    proxied.resetAllCounts();
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < settings.pages; i++) {
      await apiOk(counting.baseUrl, 'GET', `${API}/vms/${byId}`);
      // Past the backend's short read sharing, so every GET is its own read.
      await new Promise((r) => setTimeout(r, 200));
    }
    const getCalls = upstream.reduce((sum, p) => sum + p.seen.length, 0);

    // ---- 4. GET /security-groups/{id}: API vs Neutron, alternating
    console.log(`[4] GET /security-groups/{id}: ${settings.warmup} warm-up + ${settings.requests} measured each way, alternating`);
    const group = await apiOk(api.baseUrl, 'POST', `${API}/security-groups`, { name: `${runTag}-sg` });
    const groupId = String(group['id']);
    cleanup.push(() => apiCall(api.baseUrl, 'DELETE', `${API}/security-groups/${groupId}`));
    const neutronGroupGet = async (): Promise<void> => {
      // The call the API makes (a list by id: see NetworkProxy.getSecurityGroup), straight to Neutron.
      const response = await fetch(`${neutronUrl}/v2.0/security-groups?id=${groupId}`, { headers: { 'X-Auth-Token': token, Accept: 'application/json' } });
      const text = await response.text();
      if (response.status !== 200) throw new Error(`Neutron GET /security-groups/${groupId} answered ${response.status}: ${text.slice(0, 200)}`);
      JSON.parse(text);
    };
    const apiGroupGet = async (): Promise<void> => {
      await apiOk(api.baseUrl, 'GET', `${API}/security-groups/${groupId}`);
    };
    const sgApiSamples: number[] = [];
    const sgNeutronSamples: number[] = [];
    for (let i = 0; i < settings.warmup + settings.requests; i++) {
      const first = i % 2 === 0 ? apiGroupGet : neutronGroupGet;
      const second = i % 2 === 0 ? neutronGroupGet : apiGroupGet;
      const a = await timeIt(first);
      const b = await timeIt(second);
      if (i < settings.warmup) continue;
      sgApiSamples.push(i % 2 === 0 ? a : b);
      sgNeutronSamples.push(i % 2 === 0 ? b : a);
    }
    const sgApiStats = stats(sgApiSamples);
    const sgNeutronStats = stats(sgNeutronSamples);

    // ---- report
    const ratio = apiStats.median / novaStats.median;
    const p90Ratio = apiStats.p90 / novaStats.p90;
    console.log(`\n==== results (${new Date().toISOString()}) ====`);
    console.log(`\n1. GET ${API}/vms/{id} through the API vs GET /servers/{id} straight to Nova (${settings.requests} each, sequential, alternating)`);
    console.log(`  API : median ${ms(apiStats.median)}  p90 ${ms(apiStats.p90)}  min ${ms(apiStats.min)}  max ${ms(apiStats.max)}`);
    console.log(`  Nova: median ${ms(novaStats.median)}  p90 ${ms(novaStats.p90)}  min ${ms(novaStats.min)}  max ${ms(novaStats.max)}`);
    console.log(`  API / Nova: median ${ratio.toFixed(2)}x, p90 ${p90Ratio.toFixed(2)}x; API overhead at the median ${ms(apiStats.median - novaStats.median)}`);
    console.log(verdict(ratio <= 1.1, 'API median <= 1.1x Nova median', `${ratio.toFixed(2)}x`));

    const netRatio = apiNetStats.median / neutronStats.median;
    console.log(`\n1b. GET ${API}/networks/{id} through the API vs GET /v2.0/networks/{id} straight to Neutron (${settings.requests} each, same token)`);
    console.log(`  API    : median ${ms(apiNetStats.median)}  p90 ${ms(apiNetStats.p90)}  min ${ms(apiNetStats.min)}  max ${ms(apiNetStats.max)}`);
    console.log(`  Neutron: median ${ms(neutronStats.median)}  p90 ${ms(neutronStats.p90)}  min ${ms(neutronStats.min)}  max ${ms(neutronStats.max)}`);
    console.log(verdict(netRatio <= 1.1, 'API median <= 1.1x Neutron median', `${netRatio.toFixed(2)}x`));

    console.log(`\n2. Keystone token requests (POST /v3/auth/tokens through the counting proxy) per 1,000 API calls`);
    console.log(`  ${tokenPosts} token request(s) for ${totalCalls} API calls (start-up and set-up included)`);
    console.log(verdict(tokensPer1000 <= 1, 'token requests per 1,000 API calls <= 1', tokensPer1000.toFixed(2)));

    console.log(`\n3. Upstream calls per list page (GET ${API}/vms?limit=50, ${settings.pages} pages, catalogs warm; ${Math.round(listed / settings.pages)} VMs a page)`);
    const writes = upstreamCalls - upstreamReads;
    console.log(
      `  ${upstreamCalls} calls to Nova/Glance/Neutron: ${(upstreamCalls / settings.pages).toFixed(2)} per page; ` +
        `reads ${upstreamReads} (server lists ${serverLists}, catalog reads ${catalogCalls}), writes ${writes}`,
    );
    for (const line of breakdown) console.log(`    ${line}`);
    if (writes > 0) {
      console.log(
        `  the writes are reconciling calls (a pending mark dropped, a stop or confirmResize sent) for servers of the project that\n` +
          `  called for them, some made by other clients; sent once per server, not per page`,
      );
    }
    console.log(`  for the record, GET ${API}/vms/{id}: ${(getCalls / settings.pages).toFixed(2)} upstream calls per request`);
    console.log(
      verdict(
        serverLists === settings.pages && upstreamReads - catalogCalls === serverLists,
        'upstream reads per list page = 1 server list, plus the cached catalogs',
        `${(upstreamReads / settings.pages).toFixed(2)} read(s) per page: ${(serverLists / settings.pages).toFixed(2)} server list(s), ` +
          `${catalogCalls} catalog read(s) in ${settings.pages} pages`,
      ),
    );

    const sgRatio = sgApiStats.median / sgNeutronStats.median;
    console.log(`\n4. GET ${API}/security-groups/{id} through the API vs GET /v2.0/security-groups?id= straight to Neutron (${settings.requests} each, sequential, alternating)`);
    console.log(`  API    : median ${ms(sgApiStats.median)}  p90 ${ms(sgApiStats.p90)}  min ${ms(sgApiStats.min)}  max ${ms(sgApiStats.max)}`);
    console.log(`  Neutron: median ${ms(sgNeutronStats.median)}  p90 ${ms(sgNeutronStats.p90)}  min ${ms(sgNeutronStats.min)}  max ${ms(sgNeutronStats.max)}`);
    console.log(verdict(sgRatio <= 1.1, 'API median <= 1.1x Neutron median', `${sgRatio.toFixed(2)}x`));
  } finally {
    console.log(`\n[cleanup] deleting ${created.length} VM(s)`);
    await Promise.all(created.map((id) => direct.compute.deleteServer(id).catch((err: unknown) => console.error(`  could not delete ${id}: ${String(err)}`))));
    for (const step of cleanup.reverse()) await step().catch((err: unknown) => console.error(`  cleanup: ${String(err)}`));
  }
}


main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error('bench:openstack failed:', err);
    process.exit(1);
  },
);
