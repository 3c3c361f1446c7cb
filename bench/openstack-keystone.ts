/**
 * Keystone requests per 1,000 API calls spread over 20 keys (issue 8; docs/contract.md section 8:
 * one Keystone token per key per token lifetime at most), against the local cloud with tenants
 * and keys in Keystone (OS_TENANTS=keystone, the operator's environment of
 * test/openstack/mini-openstack.ts). Run by `npm run bench:openstack` after bench/openstack.ts, or
 * alone: `npx tsx bench/openstack-keystone.ts`. A report, not a test: it exits 0 whatever the
 * figure (non-zero only if something broke).
 *
 * A pass-through proxy in front of Keystone (the API's OS_AUTH_URL, and the identity endpoint of
 * the catalog its tokens carry) counts every request to it.
 * One API process makes the tenants and keys; a second one, started after the count is reset,
 * makes the calls, so the figure is a process that has never seen the keys; its start-up (the
 * operator's own token) is shown apart, as it is once per process, not per call.
 * The calls go round the keys in turn, several at a time, over GET /whoami, /vms, /flavors and
 * /quotas (the last three reach Nova). The tenants are deleted at the end, whatever happens.
 *
 * The measure runs twice, each time in a fresh process: with REDIS_URL (a real redis-server on
 * loopback), as docs/deploy.md runs several processes, where revocations arrive on Redis's channel
 * and Keystone is asked again only every 600 s; and without it, where every key is checked again
 * each OS_KEY_REVALIDATE_S (60 s): one list per tenant per minute the calls take.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { operatorEnv } from '../test/openstack/mini-openstack.js';
import { loadStack } from '../test/openstack/support/fault-env.js';
import { FaultProxy } from '../test/openstack/support/fault-proxy.js';
import { RedisServer } from '../test/support/redis-server.js';
import { envNumber } from './env-number.js';
import { startApi, type RunningApi } from './in-process-api.js';

const API = '/api/v1';

const USAGE = `usage: npx tsx bench/openstack-keystone.ts

env:
  MINI_OS_RUN=/tmp/mini-openstack   where up.sh wrote stack.json
  BENCH_KS_CALLS=1000                API calls counted
  BENCH_KS_KEYS=20                   keys the calls are spread over
  BENCH_KS_TENANTS=4                 tenants the keys belong to (made in parallel, their keys one by one)
  BENCH_KS_CONCURRENCY=8             calls in flight at once`;

const { values: cli } = parseArgs({ options: { help: { type: 'boolean', short: 'h' } } });
if (cli.help) {
  console.log(USAGE);
  process.exit(0);
}

const settings = {
  calls: envNumber('BENCH_KS_CALLS', 1_000),
  keys: envNumber('BENCH_KS_KEYS', 20),
  tenants: envNumber('BENCH_KS_TENANTS', 4),
  concurrency: envNumber('BENCH_KS_CONCURRENCY', 8),
};
if (settings.tenants > settings.keys) throw new Error('BENCH_KS_TENANTS must not exceed BENCH_KS_KEYS: every tenant comes with a key');

async function call(baseUrl: string, key: string, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return text.length > 0 ? (JSON.parse(text) as Record<string, unknown>) : {};
}

/** "GET /v3/users/<hex>/application_credentials/<hex>" -> "GET /v3/users/{id}/application_credentials/{id}". */
const shapeOf = (method: string, path: string) => `${method} ${path.replace(/\/[0-9a-f]{32}(?=\/|$)/g, '/{id}')}`;

const load = () => loadavg().map((n) => n.toFixed(1)).join(' ');

/** Keystone requests of a fresh API process (`env`) making BENCH_KS_CALLS calls over `keys`. */
async function measure(keystone: FaultProxy, env: Record<string, string>, keys: string[], label: string): Promise<void> {
  keystone.resetCounts();
  const t1 = performance.now();
  const api = await startApi(env);
  try {
    const startupRequests = keystone.seen.length;
    const paths = [`${API}/whoami`, `${API}/vms?limit=5`, `${API}/flavors`, `${API}/quotas`];
    let next = 0;
    await Promise.all(
      Array.from({ length: settings.concurrency }, async () => {
        while (next < settings.calls) {
          const n = next++;
          await call(api.baseUrl, keys[n % keys.length] as string, 'GET', paths[Math.floor(n / keys.length) % paths.length] as string);
        }
      }),
    );
    const seconds = (performance.now() - t1) / 1000;
    const total = keystone.seen.length;
    // The process's own start-up (the operator's token) is once per process, not per call: shown, not counted.
    const per1000 = ((total - startupRequests) / settings.calls) * 1_000;
    const shapes = new Map<string, number>();
    for (const r of keystone.seen) shapes.set(shapeOf(r.method, r.path), (shapes.get(shapeOf(r.method, r.path)) ?? 0) + 1);

    console.log(`\n${label}: Keystone requests (through the counting proxy) for ${settings.calls} API calls over ${keys.length} keys, in ${seconds.toFixed(1)} s (load average ${load()})`);
    console.log(`  ${startupRequests} at start-up, ${total - startupRequests} during the calls, ${total} in all:`);
    for (const [shape, count] of [...shapes].sort((a, b) => b[1] - a[1])) console.log(`    ${String(count).padStart(5)}  ${shape}`);
    const pass = per1000 <= settings.keys;
    console.log(`  ${pass ? 'PASS' : 'FAIL'}  Keystone requests per 1,000 calls over ${keys.length} keys <= ${keys.length} (start-up apart): ${per1000.toFixed(1)}`);
  } finally {
    await api.close();
  }
}

async function main(): Promise<void> {
  const stack = loadStack();
  if (typeof stack === 'string') throw new Error(stack);
  // A generous probe: the shared local cloud on a loaded machine may take many seconds to answer.
  const probe = await fetch(stack.authUrl, { signal: AbortSignal.timeout(60_000) }).catch(() => undefined);
  if (!probe?.ok) throw new Error(`Keystone does not answer at ${stack.authUrl}; run: bash scripts/openstack/up.sh`);
  console.log('vm-lifecycle-api Keystone bench (OS_TENANTS=keystone)');
  console.log(`  cloud: ${stack.authUrl}, node ${process.version}; ${settings.calls} calls over ${settings.keys} keys of ${settings.tenants} tenants, ${settings.concurrency} at a time; load average ${load()}`);

  // The catalog's identity endpoint is re-pointed at the proxy too: the directory's project, user and
  // credential calls go there, not to OS_AUTH_URL.
  const keystone: FaultProxy = await FaultProxy.start({ name: 'keystone', upstream: new URL(stack.authUrl).origin, catalogRewrite: () => ({ identity: keystone.origin }) });
  const admin = randomBytes(32).toString('base64url');
  const env = await operatorEnv({ OS_AUTH_URL: `${keystone.origin}${new URL(stack.authUrl).pathname.replace(/\/+$/, '')}`, AUTH_MODE: 'keys', ADMIN_API_KEY: admin, OS_TIMEOUT_MS: '60000' });
  let maker: RunningApi | undefined = await startApi(env);
  const tenants: string[] = [];
  try {
    // ---- set-up: tenants, each with its initial key, and more keys up to BENCH_KS_KEYS
    const t0 = performance.now();
    const runTag = `bench-ks-${process.pid}-${Date.now().toString(36)}`;
    const perTenant = Array.from({ length: settings.tenants }, (_, t) => Math.floor(settings.keys / settings.tenants) + (t < settings.keys % settings.tenants ? 1 : 0));
    const keyLists = await Promise.all(
      perTenant.map(async (count, t) => {
        const made = await call((maker as RunningApi).baseUrl, admin, 'POST', `${API}/tenants`, { name: `${runTag}-${t}` });
        tenants.push(String(made['id']));
        const secrets = [String((made['initial_key'] as Record<string, unknown>)['secret'])];
        // One at a time within a tenant: each key is made by its tenant's service user.
        while (secrets.length < count) {
          const key = await call((maker as RunningApi).baseUrl, admin, 'POST', `${API}/keys`, { name: `k${secrets.length}`, role: 'member', tenant: made['id'] });
          secrets.push(String(key['secret']));
        }
        return secrets;
      }),
    );
    const keys = keyLists.flat();
    console.log(`[setup] ${tenants.length} tenants and ${keys.length} keys in ${Math.round((performance.now() - t0) / 1000)} s (${keystone.seen.length} Keystone requests, not counted)`);
    await maker.close();
    maker = undefined;

    // ---- the measure, with Redis and without: each a fresh process, its start-up counted
    const redis = await RedisServer.start();
    try {
      await measure(keystone, { ...env, REDIS_URL: redis.url }, keys, 'with REDIS_URL (revocations on its channel; Keystone asked again every 600 s)');
    } finally {
      await redis.stop();
    }
    await measure(keystone, env, keys, 'without Redis (every key checked again each OS_KEY_REVALIDATE_S, 60 s)');
  } finally {
    // The tenants go with their keys (their service users); they own no VM.
    const cleaner = maker ?? (await startApi(env).catch(() => undefined));
    for (const id of tenants) {
      await fetch(`${cleaner?.baseUrl}${API}/tenants/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${admin}` } }).catch((err: unknown) => console.error(`could not delete tenant ${id}: ${String(err)}`));
    }
    await cleaner?.close();
    await keystone.close();
  }
}

main().catch((error: unknown) => {
  console.error('bench failed:', error);
  process.exitCode = 1;
});
