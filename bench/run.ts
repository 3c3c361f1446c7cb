/**
 * `npm run bench`: autocannon against the real app and a bare Express 5 baseline, both in child
 * processes on 127.0.0.1, in one run; prints req/s, p50/p99, the ratios and PASS/FAIL per target.
 * It is a report: it exits 0 whatever the figures, and non-zero only if something broke.
 * See bench/README.md for the knobs.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { cappedGrowthRatio, describeChurn, fullFromBlock, type ChurnMessage } from './churn-report.js';
import type { HeapMessage } from './heap.js';
import type { ReadyMessage } from './server.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const API = '/api/v1';

// ---------------------------------------------------------------- settings

const USAGE = `usage: npm run bench [-- --node /path/to/node]

env:
  BENCH_NODE=/path/to/node   node binary for the server processes (default: the one running the bench)
  BENCH_DURATION_S=5         seconds of measurement per scenario
  BENCH_SLICES=10            the measurement is cut into this many slices, taken in turn with the other
                             scenarios of its group (A B B A ...), so that background noise hits all alike
  BENCH_WARMUP_S=2           warm-up per scenario before its group is measured
  BENCH_CONNECTIONS=10       autocannon connections
  BENCH_BIG_VMS=100000       VMs in the big store (list scenario and heap measure)
  BENCH_CHURN_PAIRS=240000   create+delete pairs in the churn measure (one simulated hour, with and without caps)
  BENCH_CHURN_RATE=8125      pairs per simulated second while churning (issue 7's measurement)
  BENCH_NODE_FLAGS="..."     extra node flags for the server processes, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
  BENCH_JSON=/path.json      also write every measurement as JSON`;

const { values: cli } = parseArgs({ options: { node: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
if (cli.help) {
  console.log(USAGE);
  process.exit(0);
}

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

const settings = {
  node: cli.node ?? process.env.BENCH_NODE ?? process.execPath,
  nodeFlags: (process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter((f) => f.length > 0),
  durationS: envNumber('BENCH_DURATION_S', 5),
  warmupS: envNumber('BENCH_WARMUP_S', 2),
  slices: Math.round(envNumber('BENCH_SLICES', 10)),
  connections: Math.round(envNumber('BENCH_CONNECTIONS', 10)),
  smallVms: 1_000,
  bigVms: Math.round(envNumber('BENCH_BIG_VMS', 100_000)),
  churnPairs: Math.round(envNumber('BENCH_CHURN_PAIRS', 240_000)),
  churnRate: envNumber('BENCH_CHURN_RATE', 8_125),
};

// ---------------------------------------------------------------- child processes

const children = new Set<ChildProcess>();

// Whatever happens (error, Ctrl-C), no server outlives the bench.
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    console.error(`\nbench: ${signal}, stopping the servers`);
    process.exit(130);
  });
}

function startChild(script: string, args: string[], nodeFlags: string[]): ChildProcess {
  const child = spawn(settings.node, [...nodeFlags, '--import', 'tsx', script, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function awaitMessage<T extends { type: string }>(child: ChildProcess, type: T['type'], what: string, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`${what}: no '${type}' message within ${timeoutMs / 1000} s`)), timeoutMs);
    const onMessage = (message: unknown) => {
      if (typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type) done(null, message as T);
    };
    const onExit = (code: number | null, signal: string | null) => done(new Error(`${what} exited early (code ${code}, signal ${signal})`));
    const onError = (error: Error) => done(error);
    function done(error: Error | null, message?: T): void {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      child.off('error', onError);
      if (error) reject(error);
      else resolve(message as T);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

/** Asks a child to exit (disconnect: it exits 0, so profilers write their files), then kills it. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) child.disconnect();
  else child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

interface Server {
  label: string;
  child: ChildProcess;
  port: number;
  ids: string[];
  node: string;
  populateMs: number;
  vms: number;
  /** Headers every request to it carries (a key, with --auth keys). */
  headers: Record<string, string>;
}

async function startServer(app: 'real' | 'baseline', vms: number, label: string, extra: string[] = []): Promise<Server> {
  const child = startChild('bench/server.ts', ['--app', app, '--vms', String(vms), ...extra], settings.nodeFlags);
  const ready = await awaitMessage<ReadyMessage>(child, 'ready', `server "${label}"`, 300_000);
  const headers: Record<string, string> = ready.authorization === undefined ? {} : { authorization: ready.authorization };
  return { label, child, port: ready.port, ids: ready.ids, node: ready.node, populateMs: ready.populateMs, vms, headers };
}

// ---------------------------------------------------------------- load

interface RequestSpec {
  method: 'GET' | 'POST';
  /** One path, or several taken in turn. */
  paths: string[];
  body?: () => string;
}

/** One autocannon run. */
interface Slice {
  ok: number;
  non2xx: number;
  errors: number;
  seconds: number;
  /** Of the 2xx answers, in ms. */
  latencies: Float64Array;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * One autocannon run. Latencies are collected from the 'response' events (sub-millisecond, where
 * autocannon's own histogram rounds to whole milliseconds); only 2xx answers count.
 */
function load(server: Server, spec: RequestSpec, seconds: number): Promise<Slice> {
  let turn = 0;
  const paths = spec.paths;
  const request: autocannon.Request = { method: spec.method, path: paths[0] as string };
  request.headers = { ...server.headers, ...(spec.method === 'POST' && { 'content-type': 'application/json' }) };
  if (paths.length > 1 || spec.body) {
    const body = spec.body;
    request.setupRequest = (req) => {
      const next: autocannon.Request = { ...req, path: paths[turn++ % paths.length] as string };
      if (body) next.body = body();
      return next;
    };
  }
  let latencies = new Float64Array(1 << 15);
  let count = 0;
  const started = performance.now();
  return new Promise<Slice>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${server.port}`,
        connections: settings.connections,
        duration: seconds,
        // autocannon only notices the end of `duration` at its next sample tick (1 s by default).
        sampleInt: 100,
        requests: [request],
      },
      (error: unknown, result) => {
        if (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        resolve({
          ok: result['2xx'],
          non2xx: result.non2xx,
          errors: result.errors,
          seconds: (performance.now() - started) / 1000,
          latencies: latencies.slice(0, count),
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode < 200 || statusCode > 299) return;
      if (count === latencies.length) {
        const bigger = new Float64Array(latencies.length * 2);
        bigger.set(latencies);
        latencies = bigger;
      }
      latencies[count++] = responseTime;
    });
  });
}

// ---------------------------------------------------------------- scenarios

interface Scenario {
  key: string;
  label: string;
  server: Server;
  spec: RequestSpec;
  slices: Slice[];
}

function scenario(key: string, label: string, server: Server, spec: RequestSpec): Scenario {
  return { key, label, server, spec, slices: [] };
}

interface Summary {
  /** 2xx answers over all slices / seconds over all slices. */
  rps: number;
  p50: number;
  p99: number;
  sliceRps: number[];
  bad: number;
}

function summary(s: Scenario): Summary {
  const ok = s.slices.reduce((n, x) => n + x.ok, 0);
  const seconds = s.slices.reduce((n, x) => n + x.seconds, 0);
  const all = new Float64Array(s.slices.reduce((n, x) => n + x.latencies.length, 0));
  let at = 0;
  for (const x of s.slices) {
    all.set(x.latencies, at);
    at += x.latencies.length;
  }
  all.sort();
  return {
    rps: ok / seconds,
    p50: percentile(all, 0.5),
    p99: percentile(all, 0.99),
    sliceRps: s.slices.map((x) => x.ok / x.seconds),
    bad: s.slices.reduce((n, x) => n + x.non2xx + x.errors, 0),
  };
}

let createCounter = 0;
const createBody = () => {
  const n = createCounter++;
  return JSON.stringify({
    name: `bench-${process.pid}-${n}`,
    flavor: ['m1.tiny', 'm1.small', 'm1.medium', 'm1.large', 'm1.xlarge'][n % 5],
    image: 'ubuntu-22.04',
    start: n % 2 === 0,
  });
};

interface ListPage {
  data: { name: string }[];
  next_cursor: string | null;
}

async function getPage(server: Server, limit: number, cursor: string | null): Promise<ListPage> {
  const query = `limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
  const response = await fetch(`http://127.0.0.1:${server.port}${API}/vms?${query}`, { headers: server.headers });
  if (response.status !== 200) throw new Error(`GET ${API}/vms?${query} on "${server.label}": ${response.status} ${await response.text()}`);
  return (await response.json()) as ListPage;
}

/** Follows next_cursor through the API until `skip` VMs are behind it: a real cursor, deep in the list. */
async function cursorAfter(server: Server, skip: number): Promise<{ cursor: string; pages: number; firstName: string }> {
  const pageSize = Math.min(1000, skip);
  let cursor: string | null = null;
  let seen = 0;
  let pages = 0;
  while (seen < skip) {
    const page: ListPage = await getPage(server, Math.min(pageSize, skip - seen), cursor);
    seen += page.data.length;
    pages += 1;
    cursor = page.next_cursor;
    if (cursor === null) throw new Error(`"${server.label}" ran out of pages after ${seen} VMs`);
  }
  const deep = await getPage(server, 50, cursor);
  if (deep.data.length !== 50) throw new Error(`the deep page on "${server.label}" has ${deep.data.length} VMs, not 50`);
  return { cursor: cursor as string, pages, firstName: (deep.data[0] as { name: string }).name };
}

// ---------------------------------------------------------------- report

const fmtRps = (n: number) => Math.round(n).toLocaleString('en-US').padStart(8);
const fmtMs = (n: number) => `${n.toFixed(2).padStart(6)} ms`;
const fmtX = (n: number) => `${n.toFixed(2)}x`;

function row(s: Scenario): string {
  const m = summary(s);
  const spread = `slices ${Math.round(Math.min(...m.sliceRps)).toLocaleString('en-US')}..${Math.round(Math.max(...m.sliceRps)).toLocaleString('en-US')}`;
  const warn = m.bad > 0 ? `  !! ${m.bad} non-2xx/errors` : '';
  return `  ${s.label.padEnd(46)} ${fmtRps(m.rps)} req/s   p50 ${fmtMs(m.p50)}   p99 ${fmtMs(m.p99)}   (${spread})${warn}`;
}

interface Verdict {
  target: string;
  pass: boolean;
  detail: string;
}
const verdicts: Verdict[] = [];

function verdict(target: string, pass: boolean, detail: string): string {
  verdicts.push({ target, pass, detail });
  return `  ${pass ? 'PASS' : 'FAIL'}  ${target}: ${detail}`;
}

function valid(...list: Scenario[]): boolean {
  return list.every((s) => s.slices.length > 0 && s.slices.every((x) => x.non2xx === 0 && x.errors === 0 && x.ok > 0));
}

interface Ratio {
  /** req/s of b over a, the median of the per-slice ratios (slices taken side by side). */
  rps: number;
  /** req/s of b over a, over all slices. */
  rpsPooled: number;
  p50: number;
  p99: number;
  text: string;
}

/** How `b` compares with `a`. */
function ratio(a: Scenario, b: Scenario): Ratio {
  const ma = summary(a);
  const mb = summary(b);
  const paired = mb.sliceRps.map((r, i) => r / (ma.sliceRps[i] as number));
  const r = { rps: median(paired), rpsPooled: mb.rps / ma.rps, p50: mb.p50 / ma.p50, p99: mb.p99 / ma.p99 };
  return {
    ...r,
    text: `req/s ${fmtX(r.rps)} (median of ${paired.length} side-by-side slices; pooled ${fmtX(r.rpsPooled)}), p50 ${fmtX(r.p50)}, p99 ${fmtX(r.p99)}`,
  };
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const started = performance.now();
  const serverNode = execFileSync(settings.node, ['--version'], { encoding: 'utf8' }).trim();
  console.log('vm-lifecycle-api bench');
  console.log(`  server node : ${serverNode} (${settings.node})${settings.nodeFlags.length ? ` flags: ${settings.nodeFlags.join(' ')}` : ''}`);
  console.log(`  load (autocannon) node : ${process.version}, ${availableParallelism()} cores`);
  console.log(
    `  ${settings.durationS} s of measurement per scenario in ${settings.slices} slices taken side by side with the other ` +
      `scenarios of its group; ${settings.warmupS} s warm-up each; ${settings.connections} connections; 127.0.0.1 only`,
  );

  // 1. Heap per VM, first, in a fresh process of its own.
  console.log(`\n[setup] heap measure: ${settings.bigVms.toLocaleString('en-US')} VMs in a fresh process (--expose-gc)`);
  const heapChild = startChild('bench/heap.ts', ['--vms', String(settings.bigVms)], ['--expose-gc']);
  const heap = await awaitMessage<HeapMessage>(heapChild, 'heap', 'heap measure', 300_000);
  await stopChild(heapChild);

  // 1b. Churn: an hour of create+delete with and without the memory caps, in a fresh process too.
  console.log(`[setup] churn measure: ${settings.churnPairs.toLocaleString('en-US')} create+delete pairs over a simulated hour, twice (fresh process, --expose-gc)`);
  const churnChild = startChild('bench/churn.ts', ['--pairs', String(settings.churnPairs), '--rate', String(settings.churnRate)], ['--expose-gc']);
  const churn = await awaitMessage<ChurnMessage>(churnChild, 'churn', 'churn measure', 900_000);
  await stopChild(churnChild);

  // 2. Servers: all up at once, measured one at a time.
  console.log('[setup] starting servers: bare Express baseline (1k VMs), real app (1k VMs), real app (100k VMs)');
  const tenantCount = 100;
  const [baseline, small, big, keyed, tenanted] = await Promise.all([
    startServer('baseline', settings.smallVms, 'baseline'),
    startServer('real', settings.smallVms, 'real 1k'),
    startServer('real', settings.bigVms, 'real big'),
    startServer('real', settings.smallVms, 'keys 1k', ['--auth', 'keys']),
    startServer('real', settings.smallVms * tenantCount, 'keys 100t', ['--auth', 'keys', '--tenants', String(tenantCount)]),
  ]);
  for (const s of [baseline, small, big, keyed, tenanted]) {
    console.log(`  ${s.label.padEnd(9)} pid ${s.child.pid} port ${s.port} node ${s.node}: ${s.vms.toLocaleString('en-US')} VMs stored in ${Math.round(s.populateMs)} ms`);
  }
  if (new Set([baseline.node, small.node, big.node, keyed.node, tenanted.node, serverNode]).size !== 1) throw new Error('the servers do not all run the same node');

  const smallDeep = await cursorAfter(small, settings.smallVms / 2);
  const bigDeep = await cursorAfter(big, Math.floor(settings.bigVms / 2));
  const keyedDeep = await cursorAfter(keyed, settings.smallVms / 2);
  const tenantDeep = await cursorAfter(tenanted, settings.smallVms / 2);
  console.log(`  deep cursors: 1k store after ${settings.smallVms / 2} VMs (${smallDeep.pages} page(s) followed, page starts at ${smallDeep.firstName}); ` +
    `big store after ${Math.floor(settings.bigVms / 2).toLocaleString('en-US')} VMs (${bigDeep.pages} pages followed, page starts at ${bigDeep.firstName})`);

  const byIdPaths = (s: Server) => s.ids.map((id) => `${API}/vms/${id}`);
  const list = (cursor?: string) => [`${API}/vms?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`];
  const bigLabel = `${Math.round(settings.bigVms / 1000)}k`;
  const s = {
    getBase: scenario('get.baseline', 'bare Express (Map lookup)', baseline, { method: 'GET', paths: byIdPaths(baseline) }),
    getReal: scenario('get.real', 'real app', small, { method: 'GET', paths: byIdPaths(small) }),
    listSmall: scenario('list.1k.first', 'real app, 1k stored, first page', small, { method: 'GET', paths: list() }),
    listBig: scenario('list.big.first', `real app, ${bigLabel} stored, first page`, big, { method: 'GET', paths: list() }),
    deepSmall: scenario('list.1k.deep', 'real app, 1k stored, deep page (after 500)', small, { method: 'GET', paths: list(smallDeep.cursor) }),
    deepBig: scenario('list.big.deep', `real app, ${bigLabel} stored, deep page (after ${Math.floor(settings.bigVms / 2000)}k)`, big, {
      method: 'GET',
      paths: list(bigDeep.cursor),
    }),
    listBase: scenario('list.baseline', 'bare Express, 1k stored, first page', baseline, { method: 'GET', paths: list() }),
    postBase: scenario('post.baseline', 'bare Express (Map set)', baseline, { method: 'POST', paths: [`${API}/vms`], body: createBody }),
    postReal: scenario('post.real', 'real app (1k store, growing)', small, { method: 'POST', paths: [`${API}/vms`], body: createBody }),
    // Its own scenario (not get.real again), so that its slices are taken side by side with the keyed ones.
    getNone: scenario('get.none', 'real app, AUTH_MODE=none', small, { method: 'GET', paths: byIdPaths(small) }),
    getKeyed: scenario('get.keys', 'real app, AUTH_MODE=keys, a member key', keyed, { method: 'GET', paths: byIdPaths(keyed) }),
    listOne: scenario('list.1t.first', 'keys, one tenant of 1k, first page', keyed, { method: 'GET', paths: list() }),
    listMany: scenario('list.100t.first', `keys, one tenant of ${tenantCount} x 1k, first page`, tenanted, { method: 'GET', paths: list() }),
    deepOne: scenario('list.1t.deep', 'keys, one tenant of 1k, deep page (after 500)', keyed, { method: 'GET', paths: list(keyedDeep.cursor) }),
    deepMany: scenario('list.100t.deep', `keys, one tenant of ${tenantCount} x 1k, deep page (after 500)`, tenanted, { method: 'GET', paths: list(tenantDeep.cursor) }),
  };
  const groups: Scenario[][] = [
    [s.getBase, s.getReal],
    [s.listSmall, s.listBig, s.deepSmall, s.deepBig, s.listBase],
    [s.postBase, s.postReal],
    [s.getNone, s.getKeyed],
    [s.listOne, s.listMany, s.deepOne, s.deepMany],
  ];

  // 3. Each group: warm every member, then slices in turn (A B C, C B A, ...), so that whatever else
  // the machine is doing falls on all members alike.
  const slice = settings.durationS / settings.slices;
  for (const group of groups) {
    for (const sc of group) await load(sc.server, sc.spec, settings.warmupS);
    for (let i = 0; i < settings.slices; i++) {
      for (const sc of i % 2 === 0 ? group : [...group].reverse()) sc.slices.push(await load(sc.server, sc.spec, slice));
    }
    for (const sc of group) {
      const m = summary(sc);
      const slices = m.sliceRps.map((r) => Math.round(r).toLocaleString('en-US')).join(' ');
      console.log(`  measured ${sc.key.padEnd(15)} ${fmtRps(m.rps)} req/s  p50 ${fmtMs(m.p50)}  p99 ${fmtMs(m.p99)}  slices: ${slices}${m.bad ? `  !! ${m.bad} non-2xx/errors` : ''}`);
    }
  }

  // 4. Report.
  console.log(`\n==== results (server node ${serverNode}; ${settings.durationS} s per scenario, ${settings.slices} side-by-side slices) ====`);

  console.log(`\n1. GET ${API}/vms/{id}  (ids spread over the 1k store)`);
  console.log(row(s.getBase));
  console.log(row(s.getReal));
  const get = ratio(s.getBase, s.getReal);
  console.log(`  real / baseline: ${get.text}`);
  console.log(verdict('GET /vms/{id} real >= 0.8x bare req/s', valid(s.getBase, s.getReal) && get.rps >= 0.8, `${fmtX(get.rps)} of bare`));

  console.log(`\n2. GET ${API}/vms?limit=50`);
  for (const sc of [s.listSmall, s.listBig, s.deepSmall, s.deepBig, s.listBase]) console.log(row(sc));
  const first = ratio(s.listSmall, s.listBig);
  const deep = ratio(s.deepSmall, s.deepBig);
  const depth = ratio(s.listBig, s.deepBig);
  const vsBase = ratio(s.listBase, s.listSmall);
  console.log(`  ${bigLabel} / 1k, first page: ${first.text}`);
  console.log(`  ${bigLabel} / 1k, deep page : ${deep.text}`);
  console.log(`  deep / first at ${bigLabel}: ${depth.text}`);
  console.log(`  real / bare Express, first page at 1k: ${vsBase.text}`);
  const depthSmall = ratio(s.listSmall, s.deepSmall);
  console.log(`  deep / first at 1k: ${depthSmall.text}`);
  // "Within 1.2x": the big store's page may be at most 1.2x slower, in req/s and in median latency.
  const within = (r: Ratio) => 1 / r.rps <= 1.2 && r.p50 <= 1.2;
  const withinText = (r: Ratio) => `1k/${bigLabel} req/s ${fmtX(1 / r.rps)}, ${bigLabel}/1k p50 ${fmtX(r.p50)}`;
  console.log(verdict(`list first page at ${bigLabel} within 1.2x of 1k`, valid(s.listSmall, s.listBig) && within(first), withinText(first)));
  console.log(verdict(`list deep page at ${bigLabel} within 1.2x of 1k`, valid(s.deepSmall, s.deepBig) && within(deep), withinText(deep)));

  console.log(`\n3. POST ${API}/vms  (a new VM per request, unique names)`);
  console.log(row(s.postBase));
  console.log(row(s.postReal));
  const post = ratio(s.postBase, s.postReal);
  console.log(`  real / baseline: ${post.text}   (no target; for the record)`);
  if (!valid(s.postBase, s.postReal)) console.log('  !! some creates did not answer 2xx');

  console.log(`\n6. Tenants and keys`);
  console.log(row(s.getNone));
  console.log(row(s.getKeyed));
  const keyedGet = ratio(s.getNone, s.getKeyed);
  console.log(`  keys / none: ${keyedGet.text}`);
  console.log(verdict('GET /vms/{id} with a key >= 0.9x of AUTH_MODE=none', valid(s.getNone, s.getKeyed) && keyedGet.rps >= 0.9, `${fmtX(keyedGet.rps)} of none`));
  for (const sc of [s.listOne, s.listMany, s.deepOne, s.deepMany]) console.log(row(sc));
  const tenantFirst = ratio(s.listOne, s.listMany);
  const tenantDeepRatio = ratio(s.deepOne, s.deepMany);
  console.log(`  ${tenantCount} tenants / one, first page: ${tenantFirst.text}`);
  console.log(`  ${tenantCount} tenants / one, deep page : ${tenantDeepRatio.text}`);
  const tenantText = (r: Ratio) => `one/${tenantCount}t req/s ${fmtX(1 / r.rps)}, ${tenantCount}t/one p50 ${fmtX(r.p50)}`;
  console.log(verdict(`one tenant's first page with ${tenantCount} x 1k stored within 1.2x of one tenant`, valid(s.listOne, s.listMany) && within(tenantFirst), tenantText(tenantFirst)));
  console.log(verdict(`one tenant's deep page with ${tenantCount} x 1k stored within 1.2x of one tenant`, valid(s.deepOne, s.deepMany) && within(tenantDeepRatio), tenantText(tenantDeepRatio)));

  console.log(`\n4. Heap per VM  (${heap.vms.toLocaleString('en-US')} VMs created through the repository, fresh process, node ${heap.node})`);
  const mb = (n: number) => `${(n / 1_048_576).toFixed(1)} MB`;
  console.log(`  heapUsed ${mb(heap.beforeBytes)} -> ${mb(heap.afterBytes)}: ${Math.round(heap.bytesPerVm)} bytes per VM`);
  console.log(verdict('heap <= 1024 bytes per VM', heap.bytesPerVm <= 1024, `${Math.round(heap.bytesPerVm)} bytes per VM`));

  console.log(`\n5. Memory under create+delete churn  (memory repository, fresh process, node ${churn.node})`);
  for (const line of describeChurn(churn)) console.log(line);
  const flat = cappedGrowthRatio(churn);
  console.log(
    verdict(
      'heap flat under churn once the caps are full (growth <= 0.05x the uncapped run over the same blocks)',
      flat <= 0.05,
      Number.isNaN(flat) ? 'the caps never filled: too few pairs' : `${flat.toFixed(3)}x of uncapped growth from block ${fullFromBlock(churn)} to ${churn.blocks}`,
    ),
  );

  console.log(`\n==== summary (server node ${serverNode}) ====`);
  for (const v of verdicts) console.log(`  ${v.pass ? 'PASS' : 'FAIL'}  ${v.target}: ${v.detail}`);
  console.log(`  took ${Math.round((performance.now() - started) / 1000)} s`);

  if (process.env.BENCH_JSON) {
    const dump = {
      serverNode,
      loadNode: process.version,
      settings,
      scenarios: Object.values(s).map((sc) => ({ key: sc.key, label: sc.label, ...summary(sc) })),
      heap,
      churn,
      verdicts,
    };
    writeFileSync(process.env.BENCH_JSON, `${JSON.stringify(dump, null, 2)}\n`);
    console.log(`  wrote ${process.env.BENCH_JSON}`);
  }

  await Promise.all([baseline, small, big].map((sv) => stopChild(sv.child)));
}

main()
  .catch((error: unknown) => {
    console.error('bench failed:', error);
    process.exitCode = 1;
  })
  .finally(async () => {
    await Promise.all([...children].map(stopChild));
  });
