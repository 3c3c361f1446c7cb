/**
 * `npm run bench:redis` (and the last part of `npm run bench`; BENCH_ONLY=roundtrips: part 2 alone): what REDIS_URL costs.
 *
 * 1. GET /api/v1/vms/{id} on the memory backend (1k VMs) with REDIS_URL vs without: two real apps
 *    (bench/server.ts, each in a child process, `--redis` for one), measured in turn in slices
 *    (A B, B A, ...) after a warm-up; the ratio is the median of the per-slice ratios. Target >= 0.9x.
 * 2. Redis commands per create, from INFO commandstats deltas around N creates without and N with
 *    an Idempotency-Key, through the real app on a real redis-server (test/support/redis-server.ts).
 *    Commands a script runs (redis.call inside EVAL) are counted by Redis too; they are not round
 *    trips, so the report names them. Target: a keyed create adds at most one round trip.
 *
 * A report, not a test: it exits 0 whatever the figures, non-zero only if something broke.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { pino } from 'pino';
import { createClient } from 'redis';
import { buildApp } from '../src/app.js';
import { RedisState } from '../src/shared-state/redis-state.js';
import { RedisServer } from '../test/support/redis-server.js';
import { createBenchBackend } from './fixtures.js';
import type { ReadyMessage } from './server.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SLICES = Number(process.env.BENCH_SLICES ?? 10);
const SLICE_S = Number(process.env.BENCH_DURATION_S ?? 5) / SLICES;
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const CREATES = 200;

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

interface Server {
  label: string;
  port: number;
  ids: string[];
  child: ChildProcess;
}

async function startServer(label: string, extra: string[]): Promise<Server> {
  const child = spawn(process.env.BENCH_NODE ?? process.execPath, ['--import', 'tsx', 'bench/server.ts', '--app', 'real', '--vms', '1000', ...extra], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  const [ready] = (await once(child, 'message')) as [ReadyMessage];
  return { label, port: ready.port, ids: ready.ids, child };
}

/** One autocannon run over the server's VM ids: 2xx per second. */
async function slice(server: Server, seconds: number): Promise<number> {
  let turn = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}`,
    connections: CONNECTIONS,
    duration: seconds,
    sampleInt: 100,
    requests: [{ method: 'GET', path: `/api/v1/vms/${server.ids[0]}`, setupRequest: (req) => ({ ...req, path: `/api/v1/vms/${server.ids[turn++ % server.ids.length]}` }) }],
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${server.label}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return result['2xx'] / seconds;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

async function getWithAndWithout(redisUrl: string): Promise<void> {
  const without = await startServer('without REDIS_URL', []);
  const withRedis = await startServer('with REDIS_URL', ['--redis', redisUrl]);
  await slice(without, WARMUP_S);
  await slice(withRedis, WARMUP_S);
  const rps = { without: [] as number[], with: [] as number[] };
  const ratios: number[] = [];
  for (let i = 0; i < SLICES; i += 1) {
    const order = i % 2 === 0 ? [without, withRedis] : [withRedis, without];
    const got = new Map<Server, number>();
    for (const server of order) got.set(server, await slice(server, SLICE_S));
    rps.without.push(got.get(without) as number);
    rps.with.push(got.get(withRedis) as number);
    ratios.push((got.get(withRedis) as number) / (got.get(without) as number));
  }
  const ratio = median(ratios);
  console.log(`\n1. GET /api/v1/vms/{id}, memory backend, 1k VMs  (node ${process.version}, ${CONNECTIONS} connections, ${SLICES} x ${SLICE_S} s each)`);
  console.log(`  without REDIS_URL  ${Math.round(median(rps.without))} req/s (median slice)`);
  console.log(`  with REDIS_URL     ${Math.round(median(rps.with))} req/s (median slice)`);
  console.log(`  ${ratio >= 0.9 ? 'PASS' : 'FAIL'}  with / without >= 0.9x: ${ratio.toFixed(2)}x (median of per-slice ratios)`);
  for (const server of [without, withRedis]) server.child.disconnect();
}

type Stats = Map<string, number>;

async function commandStats(client: ReturnType<typeof createClient>): Promise<Stats> {
  const text = await client.info('commandstats');
  const stats: Stats = new Map();
  for (const match of text.matchAll(/^cmdstat_([\w|]+):calls=(\d+)/gm)) stats.set(match[1] as string, Number(match[2]));
  return stats;
}

const delta = (before: Stats, after: Stats): Stats => {
  const out: Stats = new Map();
  for (const [name, calls] of after) {
    // The bench's own INFO, and the followers' blocking XREAD (per batch of events, not per request).
    if (name === 'info' || name === 'xread') continue;
    const d = calls - (before.get(name) ?? 0);
    if (d !== 0) out.set(name, d);
  }
  return out;
};

async function roundTrips(redisUrl: string): Promise<void> {
  const state = new RedisState({ url: redisUrl, logger: pino({ level: 'silent' }) });
  state.start();
  while (!(await state.check()).ok) await new Promise((r) => setTimeout(r, 50));
  const app = buildApp({
    config: { AUTH_MODE: 'none', API_KEYS: [], API_READONLY_KEYS: [], RATE_LIMIT_PER_MINUTE: 0, AUTH_FAILURES_PER_MINUTE: 30, EVENTS_REPLAY_COUNT: 1000, EVENTS_REPLAY_AGE_S: 300, EVENTS_HEARTBEAT_MS: 15_000, EVENTS_MAX_BUFFERED_KB: 256 },
    backend: createBenchBackend(),
    logger: pino({ level: 'silent' }),
    sharedState: state,
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/vms`;
  const probe = createClient({ url: redisUrl });
  await probe.connect();

  const batch = async (keyed: boolean): Promise<Stats> => {
    const before = await commandStats(probe);
    for (let i = 0; i < CREATES; i += 1) {
      const headers: Record<string, string> = { 'content-type': 'application/json', ...(keyed && { 'idempotency-key': `bench-${Date.now()}-${i}` }) };
      const answer = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ name: `rt-${keyed}-${i}`, flavor: 'm1.small', image: 'ubuntu-22.04' }) });
      if (answer.status >= 300) throw new Error(`create answered ${answer.status}: ${await answer.text()}`);
    }
    // Let the events' appends (not awaited by the request) land.
    await new Promise((r) => setTimeout(r, 300));
    return delta(before, await commandStats(probe));
  };
  const plain = await batch(false);
  const keyed = await batch(true);
  const names = [...new Set([...plain.keys(), ...keyed.keys()])].sort();
  const per = (stats: Stats, name: string) => (stats.get(name) ?? 0) / CREATES;
  console.log(`\n2. Redis commands per POST /api/v1/vms, ${CREATES} creates each, INFO commandstats deltas (INFO and the followers' XREAD left out)`);
  console.log(`  ${'command'.padEnd(10)} ${'no key'.padStart(8)} ${'with key'.padStart(9)} ${'extra'.padStart(7)}`);
  for (const name of names) {
    console.log(`  ${name.padEnd(10)} ${per(plain, name).toFixed(2).padStart(8)} ${per(keyed, name).toFixed(2).padStart(9)} ${(per(keyed, name) - per(plain, name)).toFixed(2).padStart(7)}`);
  }
  // Commands a script runs are counted too, but travel in its EVAL: only EVAL and the commands no
  // script runs on this path are round trips. In the create path scripts run SET+XADD (an event's
  // once-key and append) and GET+DEL (a claim's release); top-level, only the claim's SET NX PX.
  const scriptEvals = (stats: Stats) => stats.get('eval') ?? 0;
  const claims = (stats: Stats) => (stats.get('set') ?? 0) - (stats.get('xadd') ?? 0);
  const trips = (stats: Stats) => (scriptEvals(stats) + claims(stats)) / CREATES;
  const extra = trips(keyed) - trips(plain);
  console.log(`  round trips per create: ${trips(plain).toFixed(2)} without a key (the events' appends, sent after the answer is decided), ${trips(keyed).toFixed(2)} with one`);
  console.log(`  ${extra <= 1.0001 ? 'PASS' : 'FAIL'}  a keyed create adds at most one round trip: ${extra.toFixed(2)}\n`);
  await probe.close();
  server.close();
  await state.close();
}

async function main(): Promise<void> {
  const redis = await RedisServer.start();
  try {
    if (process.env.BENCH_ONLY !== 'roundtrips') await getWithAndWithout(redis.url);
    await roundTrips(redis.url);
  } finally {
    await redis.stop();
  }
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error('bench:redis failed:', error);
  process.exit(1);
});
