/**
 * The event stream under 1,000 subscribers (part of `npm run bench`; alone: `npm run bench:events`).
 * The real app (memory backend, 1,000 VMs, every default) runs in a child process with
 * --expose-gc; the subscribers and the load run here, all on 127.0.0.1. It prints:
 *
 *   1. fan-out: 1,000 subscribers, a VM action every 50 ms; for every subscriber and event, the
 *      time from the settle (the event's `at`, stamped as the hub publishes) to its arrival.
 *      Target p99 <= 100 ms.
 *   2. heap per subscriber: heapUsed after a full GC with none and with 1,000 connected.
 *      Target <= 16 KiB.
 *   3. GET /api/v1/vms/{id} req/s with 1,000 idle subscribers connected vs none, in alternating
 *      slices on the same server (the median of the per-round ratios). Target >= 0.95x.
 *
 * A report, like bench/run.ts: exits 0 whatever the figures, non-zero only if something broke.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request, type ClientRequest } from 'node:http';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { EventsReady, HeapReading } from './events-server.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SUBSCRIBERS = 1_000;
const EVENTS = 100;
const EVENT_EVERY_MS = 50;
const SLICE_S = 1.5;
const ROUNDS = 6;

const node = process.env.BENCH_NODE ?? process.execPath;
const child: ChildProcess = spawn(node, ['--expose-gc', '--import', 'tsx', 'bench/events-server.ts'], {
  cwd: ROOT,
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
process.on('exit', () => child.kill('SIGKILL'));

function message<T extends { type: string }>(type: T['type']): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${type}' from the server within 120 s`)), 120_000);
    const onMessage = (m: { type?: string }) => {
      if (m.type !== type) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(m as T);
    };
    child.on('message', onMessage);
  });
}

async function heap(): Promise<HeapReading> {
  const reading = message<HeapReading>('heap');
  child.send({ type: 'heap' });
  return reading;
}

interface Subscriber {
  req: ClientRequest;
  /** Milliseconds from each event's `at` to its arrival here. */
  delays: number[];
}

/** Opens `count` streams; resolves once every one has its first frame (retry:). */
async function subscribe(port: number, count: number): Promise<Subscriber[]> {
  const subscribers: Subscriber[] = [];
  const opened: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const subscriber: Subscriber = { req: undefined as unknown as ClientRequest, delays: [] };
    opened.push(
      new Promise<void>((resolve, reject) => {
        subscriber.req = request({ host: '127.0.0.1', port, path: '/api/v1/events', agent: false }, (res) => {
          res.setEncoding('utf8');
          let pending = '';
          res.on('data', (chunk: string) => {
            const arrived = performance.timeOrigin + performance.now();
            pending += chunk;
            let end: number;
            while ((end = pending.indexOf('\n\n')) >= 0) {
              const frame = pending.slice(0, end);
              pending = pending.slice(end + 2);
              if (frame.startsWith('retry:')) resolve();
              const data = /^data: (.*)$/m.exec(frame)?.[1];
              if (data) subscriber.delays.push(arrived - Date.parse((JSON.parse(data) as { at: string }).at));
            }
          });
          res.on('error', () => undefined);
        });
        subscriber.req.on('error', reject);
        subscriber.req.end();
      }),
    );
    subscribers.push(subscriber);
    // Spread the connects a little: 1,000 at once would overflow the listen backlog.
    if (i % 100 === 99) await Promise.all(opened.slice(-100));
  }
  await Promise.all(opened);
  return subscribers;
}

function unsubscribe(subscribers: Subscriber[]): void {
  for (const s of subscribers) s.req.destroy();
}

async function post(port: number, path: string): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST' });
  if (response.status !== 200) throw new Error(`${path} answered ${response.status}`);
  await response.arrayBuffer();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

function getLoad(port: number, ids: string[], seconds: number): Promise<number> {
  let turn = 0;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `http://127.0.0.1:${port}`,
        connections: 10,
        duration: seconds,
        sampleInt: 100,
        requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/api/v1/vms/${ids[turn++ % ids.length]}` }) }],
      },
      (error: unknown, result) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(result['2xx'] / seconds)),
    );
  });
}

const verdict = (target: string, pass: boolean, detail: string) => `  ${pass ? 'PASS' : 'FAIL'}  ${target}: ${detail}`;

async function main(): Promise<void> {
  const ready = await message<EventsReady>('ready');
  const { port, ids } = ready;
  console.log(`\nEvent stream bench: ${SUBSCRIBERS} subscribers, server on node ${ready.node}, memory backend, 1,000 VMs`);
  // Latency under CPU contention measures the machine, not the hub: say how busy it was.
  const load = () => `load average ${loadavg()[0]?.toFixed(1)} on ${availableParallelism()} CPUs`;
  console.log(`  at start: ${load()}`);

  // Warm the stream path once, so JIT code and one-time allocations are not counted as per-subscriber heap.
  unsubscribe(await subscribe(port, SUBSCRIBERS));
  await sleep(500);

  // Until the server has closed every warm-up connection (on a busy machine it takes a moment).
  let before = await heap();
  for (let tries = 0; before.connections > 0 && tries < 50; tries++) {
    await sleep(100);
    before = await heap();
  }
  const subscribers = await subscribe(port, SUBSCRIBERS);
  const after = await heap();
  const perSubscriber = (after.heapUsed - before.heapUsed) / (after.connections - before.connections);

  const vm = ids[0] as string;
  await post(port, `/api/v1/vms/${vm}/stop`).catch(() => undefined);
  for (const s of subscribers) s.delays.length = 0;
  for (let i = 0; i < EVENTS; i++) {
    await post(port, `/api/v1/vms/${vm}/${i % 2 === 0 ? 'start' : 'stop'}`);
    await sleep(EVENT_EVERY_MS);
  }
  await sleep(500);
  const delays = subscribers.flatMap((s) => s.delays).sort((a, b) => a - b);
  const missing = SUBSCRIBERS * EVENTS - delays.length;

  const none: number[] = [];
  const withSubscribers: number[] = [];
  await getLoad(port, ids, 1); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    withSubscribers.push(await getLoad(port, ids, SLICE_S));
    unsubscribe(subscribers.splice(0));
    await sleep(300);
    none.push(await getLoad(port, ids, SLICE_S));
    if (round < ROUNDS - 1) {
      subscribers.push(...(await subscribe(port, SUBSCRIBERS)));
      await sleep(300);
    }
  }
  // The median of the per-round ratios: a burst of background load spoils one round, not the figure.
  const ratios = withSubscribers.map((w, i) => w / (none[i] as number)).sort((a, b) => a - b);
  const ratio = ((ratios[(ROUNDS >> 1) - 1] as number) + (ratios[ROUNDS >> 1] as number)) / 2;

  const p = (q: number) => percentile(delays, q).toFixed(1);
  console.log(`\n1. Fan-out: ${EVENTS} events x ${SUBSCRIBERS} subscribers = ${delays.length.toLocaleString('en-US')} deliveries${missing ? ` (${missing} missing)` : ''}`);
  console.log(`  settle -> arrival ms: p50 ${p(50)}, p90 ${p(90)}, p99 ${p(99)}, max ${p(100)}`);
  console.log(verdict('p99 <= 100 ms, none missing', percentile(delays, 99) <= 100 && missing === 0, `p99 ${p(99)} ms`));
  console.log(`\n2. Heap per subscriber (full GC before each reading; ${before.connections} -> ${after.connections} connections)`);
  console.log(`  heapUsed ${(before.heapUsed / 2 ** 20).toFixed(1)} MiB -> ${(after.heapUsed / 2 ** 20).toFixed(1)} MiB: ${(perSubscriber / 1024).toFixed(1)} KiB per subscriber`);
  console.log(verdict('<= 16 KiB per subscriber', perSubscriber <= 16 * 1024, `${(perSubscriber / 1024).toFixed(1)} KiB`));
  console.log(`\n3. GET /api/v1/vms/{id}, ${ROUNDS} alternating slices of ${SLICE_S} s each, 10 connections`);
  console.log(`  with ${SUBSCRIBERS} subscribers: ${withSubscribers.map((r) => Math.round(r)).join(', ')} req/s`);
  console.log(`  with none:             ${none.map((r) => Math.round(r)).join(', ')} req/s`);
  console.log(verdict('>= 0.95x of none', ratio >= 0.95, `${ratio.toFixed(3)}x (median of ${ROUNDS} rounds)`));
  console.log(`\n  at end: ${load()}`);
  child.disconnect();
}

main().catch((error: unknown) => {
  console.error('events bench failed:', error);
  process.exit(1);
});
