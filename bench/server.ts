/**
 * A server under test, run by bench/run.ts in a child process of its own so that it never shares an
 * event loop with autocannon:
 *
 *   node --import tsx bench/server.ts --app real|baseline --vms <count> [--volumes <count>] [--auth keys] [--tenants <n>] [--redis <url>]
 *
 * `--auth keys` runs the real app with AUTH_MODE=keys and hands back a member key of the default
 * tenant (`authorization`); `--tenants n` spreads the VMs over n tenants, and `ids` are the default
 * tenant's; `--volumes n` also stores n volumes in the default tenant. `--redis <url>` gives the real app a RedisState on that URL (as REDIS_URL does), ready before it listens.
 *
 * It fills its store, listens on 127.0.0.1 (a free port), and tells the parent over the IPC channel
 * { type: 'ready', port, ids, node }, and answers { type: 'cpu?' } with its CPU time. It exits when the parent disconnects (or dies).
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { buildApp } from '../src/app.js';
import { RedisState } from '../src/shared-state/redis-state.js';
import { addVm, buildBaselineApp, createBaselineStore, makeVm } from './baseline-app.js';
import { FLAVOR_NAMES, IMAGE_NAME, createBenchBackend, populate, populateVolumes, sampleEvery } from './fixtures.js';

export interface ReadyMessage {
  type: 'ready';
  port: number;
  /** Up to 1000 ids of stored VMs, spread over the whole store. */
  ids: string[];
  node: string;
  populateMs: number;
  /** With --auth keys: the Authorization header of a member key of the default tenant. */
  authorization?: string;
}

/** The answer to `{ type: 'cpu?' }`: the process's CPU time so far (user + system), in microseconds. */
export interface CpuMessage {
  type: 'cpu';
  micros: number;
}

const MAX_IDS = 1000;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      app: { type: 'string' },
      vms: { type: 'string', default: '1000' },
      auth: { type: 'string', default: 'none' },
      tenants: { type: 'string', default: '1' },
      volumes: { type: 'string', default: '0' },
      redis: { type: 'string' },
    },
  });
  const count = Number(values.vms);
  const tenants = Number(values.tenants);
  const volumes = Number(values.volumes);
  if (!Number.isSafeInteger(volumes) || volumes < 0) throw new Error(`--volumes must be a whole number, got ${values.volumes}`);
  if (values.auth !== 'none' && values.auth !== 'keys') throw new Error(`--auth must be none or keys, got ${values.auth}`);
  if (!Number.isSafeInteger(tenants) || tenants < 1) throw new Error(`--tenants must be a positive whole number, got ${values.tenants}`);
  let authorization: string | undefined;
  if (!Number.isSafeInteger(count) || count < 1) throw new Error(`--vms must be a positive whole number, got ${values.vms}`);
  const every = sampleEvery(Math.ceil(count / tenants), MAX_IDS);
  const ids: string[] = [];
  const keep = (id: string, i: number) => {
    if (i % every === 0 && ids.length < MAX_IDS) ids.push(id);
  };

  const started = performance.now();
  let server: Server;
  if (values.app === 'real') {
    const backend = createBenchBackend();
    await populate(backend, count, 'seed', keep, tenants);
    await populateVolumes(backend, volumes, 'seed');
    if (values.auth === 'keys') {
      const { secret } = await backend.tenants.createKey({ tenant: 'default', name: 'bench', role: 'member' });
      authorization = `Bearer ${secret}`;
    }
    const sharedState = values.redis === undefined ? undefined : await readyRedis(values.redis);
    const app = buildApp({
      ...(sharedState && { sharedState }),
      config: { AUTH_MODE: values.auth, ADMIN_API_KEY: values.auth === 'keys' ? randomBytes(32).toString('base64url') : undefined, API_KEYS: [], API_READONLY_KEYS: [], RATE_LIMIT_PER_MINUTE: 0, AUTH_FAILURES_PER_MINUTE: 30, EVENTS_REPLAY_COUNT: 1000, EVENTS_REPLAY_AGE_S: 300, EVENTS_HEARTBEAT_MS: 15_000, EVENTS_MAX_BUFFERED_KB: 256 },
      backend,
      logger: pino({ level: 'silent' }),
    });
    server = app.listen(0, '127.0.0.1');
  } else if (values.app === 'baseline') {
    const store = createBaselineStore();
    for (let i = 0; i < count; i++) {
      const vm = makeVm(`seed-${i}`, FLAVOR_NAMES[i % FLAVOR_NAMES.length] as string, IMAGE_NAME, i % 2 === 0, i + 1);
      addVm(store, vm);
      keep(vm.id, i);
    }
    server = buildBaselineApp(store).listen(0, '127.0.0.1');
  } else {
    throw new Error(`--app must be real or baseline, got ${values.app}`);
  }
  const populateMs = performance.now() - started;
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const ready: ReadyMessage = { type: 'ready', port, ids, node: process.version, populateMs, ...(authorization !== undefined && { authorization }) };
  if (!process.send) throw new Error('bench/server.ts must be started by bench/run.ts (it needs the IPC channel)');
  process.send(ready);
}

async function readyRedis(url: string): Promise<RedisState> {
  const state = new RedisState({ url, logger: pino({ level: 'silent' }) });
  state.start();
  for (let tries = 0; !(await state.check()).ok; tries += 1) {
    if (tries > 100) throw new Error(`Redis at ${url} does not answer`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return state;
}

// CPU time is what a request costs the server whatever else the machine runs; wall-clock req/s
// on a loaded machine is mostly the scheduler's.
process.on('message', (message: { type?: string }) => {
  if (message.type !== 'cpu?' || !process.send) return;
  const usage = process.cpuUsage();
  process.send({ type: 'cpu', micros: usage.user + usage.system } satisfies CpuMessage);
});

// Exiting normally (not by a signal) lets --cpu-prof / --heap-prof write their files.
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));

main().catch((error: unknown) => {
  console.error('bench server failed:', error);
  process.exit(1);
});
