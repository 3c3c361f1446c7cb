/**
 * `npm run bench`: autocannon against the real app and a bare Express 5 baseline, both in child
 * processes on 127.0.0.1, in one run; prints req/s, p50/p99, the ratios and PASS/FAIL per target.
 * It is a report: it exits 0 whatever the figures, and non-zero only if something broke.
 * See bench/README.md for the knobs.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { cappedGrowthRatio, describeChurn, fullFromBlock, type ChurnMessage } from './churn-report.js';
import type { HeapMessage } from './heap.js';
import type { CpuMessage, ReadyMessage } from './server.js';
import { envNumber } from './env-number.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const API = '/api/v1';

// ---------------------------------------------------------------- settings

const USAGE = `usage: npx tsx bench/run.ts [--node /path/to/node]   (npm run bench runs it, then bench/events.ts)

env:
  BENCH_NODE=/path/to/node   node binary for the server processes (default: the one running the bench)
  BENCH_NODES="a b"          nodes on which GET /vms/{id} is measured side by side (paths, or node@N fetched
                             with npx); default: BENCH_NODE plus node@24 when npx can get it. "" = BENCH_NODE only
  BENCH_ONLY=get             measure only GET /vms/{id} (on every node of BENCH_NODES); skips heap, churn, list, POST
  BENCH_ONLY=tenancy         measure only scenario 6 (keyed GET vs AUTH_MODE=none; one tenant's page of 100 x 1k vs 1k)
  BENCH_DURATION_S=5         seconds of measurement per scenario
  BENCH_SLICES=10            the measurement is cut into this many slices, taken in turn with the other
                             scenarios of its group (A B B A ...), so that background noise hits all alike
  BENCH_WARMUP_S=2           warm-up per scenario before its group is measured
  BENCH_CONNECTIONS=10       autocannon connections
  BENCH_BIG_VMS=100000       VMs (and volumes) in the big store (list scenarios and heap measures)
  BENCH_CHURN_PAIRS=240000   create+delete pairs in the churn measure (one simulated hour, with and without caps)
  BENCH_CHURN_RATE=8125      pairs per simulated second while churning (issue 7's measurement)
  BENCH_NODE_FLAGS="..."     extra node flags for the server processes, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
  BENCH_JSON=/path.json      also write every measurement as JSON`;

const { values: cli } = parseArgs({ options: { node: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
if (cli.help) {
  console.log(USAGE);
  process.exit(0);
}

const only = process.env.BENCH_ONLY ?? '';
if (only !== '' && only !== 'get' && only !== 'tenancy') throw new Error(`BENCH_ONLY must be "get", "tenancy" or empty, got "${only}"`);

const settings = {
  node: cli.node ?? process.env.BENCH_NODE ?? process.execPath,
  /** Node specs for the side-by-side GET measure, resolved in main(). */
  nodes: process.env.BENCH_NODES === undefined ? null : process.env.BENCH_NODES.split(/[\s,]+/).filter((n) => n.length > 0),
  getOnly: only === 'get',
  tenancyOnly: only === 'tenancy',
  nodeFlags: (process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter((f) => f.length > 0),
  durationS: envNumber('BENCH_DURATION_S', 5, { whole: false }),
  warmupS: envNumber('BENCH_WARMUP_S', 2, { whole: false }),
  slices: Math.round(envNumber('BENCH_SLICES', 10, { whole: false })),
  connections: Math.round(envNumber('BENCH_CONNECTIONS', 10, { whole: false })),
  smallVms: 1_000,
  bigVms: Math.round(envNumber('BENCH_BIG_VMS', 100_000, { whole: false })),
  churnPairs: Math.round(envNumber('BENCH_CHURN_PAIRS', 240_000, { whole: false })),
  churnRate: envNumber('BENCH_CHURN_RATE', 8_125, { whole: false }),
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

/**
 * The child processes run the project compiled by tsc, as `npm start` runs it (dist/), not through
 * tsx: tsx's esbuild transform wraps every function made per request in a `__name` call (its
 * keepNames), which a CPU profile of GET /vms/{id} on Node 24 showed at ~1.6 us a request in the
 * real app alone. Compiled once per run (tsconfig.bench.json, into .bench/build).
 */
const BUILD = '.bench/build';

function compileChildren(): void {
  execFileSync(process.execPath, [fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url)), '-p', 'tsconfig.bench.json'], { cwd: ROOT, stdio: 'inherit' });
}

function startChild(script: string, args: string[], nodeFlags: string[], node = settings.node): ChildProcess {
  const compiled = `${BUILD}/${script.replace(/\.ts$/, '.js')}`;
  const child = spawn(node, [...nodeFlags, compiled, ...args], {
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

async function startServer(app: 'real' | 'baseline', vms: number, label: string, node = settings.node, extra: string[] = []): Promise<Server> {
  const child = startChild('bench/server.ts', ['--app', app, '--vms', String(vms), ...extra], settings.nodeFlags, node);
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
  /** The server's CPU time over the slice (user + system), in microseconds. */
  cpuMicros: number;
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
          cpuMicros: 0,
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

/** The server's CPU time so far, in microseconds. */
async function cpuOf(server: Server): Promise<number> {
  const answer = awaitMessage<CpuMessage>(server.child, 'cpu', `CPU time of "${server.label}"`, 30_000);
  server.child.send({ type: 'cpu?' });
  return (await answer).micros;
}

/** One slice, with the server's CPU time over it. */
async function measuredSlice(server: Server, spec: RequestSpec, seconds: number): Promise<Slice> {
  const before = await cpuOf(server);
  const slice = await load(server, spec, seconds);
  slice.cpuMicros = (await cpuOf(server)) - before;
  return slice;
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
  /** The server's CPU time per answer, in microseconds, over all slices. */
  cpuPerRequest: number;
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
    cpuPerRequest: s.slices.reduce((n, x) => n + x.cpuMicros, 0) / Math.max(1, s.slices.reduce((n, x) => n + x.ok + x.non2xx, 0)),
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

async function getPage(server: Server, limit: number, cursor: string | null, collection: string): Promise<ListPage> {
  const query = `limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
  const response = await fetch(`http://127.0.0.1:${server.port}${API}/${collection}?${query}`, { headers: server.headers });
  if (response.status !== 200) throw new Error(`GET ${API}/${collection}?${query} on "${server.label}": ${response.status} ${await response.text()}`);
  return (await response.json()) as ListPage;
}

/** Follows next_cursor through the API until `skip` items (VMs, or volumes) are behind it: a real cursor, deep in the list. */
async function cursorAfter(server: Server, skip: number, collection = 'vms'): Promise<{ cursor: string; pages: number; firstName: string }> {
  const pageSize = Math.min(1000, skip);
  let cursor: string | null = null;
  let seen = 0;
  let pages = 0;
  while (seen < skip) {
    const page: ListPage = await getPage(server, Math.min(pageSize, skip - seen), cursor, collection);
    seen += page.data.length;
    pages += 1;
    cursor = page.next_cursor;
    if (cursor === null) throw new Error(`"${server.label}" ran out of pages after ${seen} VMs`);
  }
  const deep = await getPage(server, 50, cursor, collection);
  if (deep.data.length !== 50) throw new Error(`the deep page on "${server.label}" has ${deep.data.length} VMs, not 50`);
  return { cursor: cursor as string, pages, firstName: (deep.data[0] as { name: string }).name };
}

// ---------------------------------------------------------------- report

const fmtRps = (n: number) => Math.round(n).toLocaleString('en-US').padStart(8);
const fmtMs = (n: number) => `${n.toFixed(2).padStart(6)} ms`;
const fmtX = (n: number) => `${n.toFixed(2)}x`;
const fmtUs = (n: number) => `${Math.round(n)} us`;

function row(s: Scenario): string {
  const m = summary(s);
  const spread = `slices ${Math.round(Math.min(...m.sliceRps)).toLocaleString('en-US')}..${Math.round(Math.max(...m.sliceRps)).toLocaleString('en-US')}`;
  const warn = m.bad > 0 ? `  !! ${m.bad} non-2xx/errors` : '';
  return `  ${s.label.padEnd(46)} ${fmtRps(m.rps)} req/s   p50 ${fmtMs(m.p50)}   p99 ${fmtMs(m.p99)}   CPU ${fmtUs(m.cpuPerRequest)}/req   (${spread})${warn}`;
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
  /** The server's CPU time per request of b over a's (lower is cheaper). */
  cpu: number;
  text: string;
}

/** How `b` compares with `a`. */
function ratio(a: Scenario, b: Scenario): Ratio {
  const ma = summary(a);
  const mb = summary(b);
  const paired = mb.sliceRps.map((r, i) => r / (ma.sliceRps[i] as number));
  const r = { rps: median(paired), rpsPooled: mb.rps / ma.rps, p50: mb.p50 / ma.p50, p99: mb.p99 / ma.p99, cpu: mb.cpuPerRequest / ma.cpuPerRequest };
  return {
    ...r,
    text: `req/s ${fmtX(r.rps)} (median of ${paired.length} side-by-side slices; pooled ${fmtX(r.rpsPooled)}), p50 ${fmtX(r.p50)}, p99 ${fmtX(r.p99)}, server CPU per request ${fmtX(r.cpu)}`,
  };
}

// ---------------------------------------------------------------- nodes

interface NodeBinary {
  path: string;
  version: string;
}

function versionOf(path: string): string {
  return execFileSync(path, ['--version'], { encoding: 'utf8', timeout: 30_000 }).trim();
}

/** A path, or `node@N` fetched with npx (the npm cache keeps it after the first time). */
function resolveNode(spec: string): NodeBinary {
  const path = /^node@/.test(spec)
    ? execFileSync('npx', ['-y', spec, '-p', 'process.execPath'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 180_000 }).trim()
    : spec;
  return { path, version: versionOf(path) };
}

/**
 * The nodes GET /vms/{id} is measured on, side by side: BENCH_NODES, or by default the server node
 * and node@24 when npx can get it. One per version; one that cannot be run is left out, said so.
 */
function resolveNodes(primary: NodeBinary): { nodes: NodeBinary[]; notes: string[] } {
  const specs = settings.nodes ?? [primary.path, 'node@24'];
  const nodes: NodeBinary[] = [];
  const notes: string[] = [];
  for (const spec of specs) {
    let node: NodeBinary;
    try {
      node = spec === primary.path ? primary : resolveNode(spec);
    } catch (error) {
      notes.push(`!! ${spec} left out: it cannot be run here (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`);
      continue;
    }
    if (nodes.some((n) => n.version === node.version)) continue;
    nodes.push(node);
  }
  if (nodes.length === 0) throw new Error(`none of BENCH_NODES (${specs.join(' ')}) can be run`);
  return { nodes, notes };
}

const byIdPaths = (sv: Server) => sv.ids.map((id) => `${API}/vms/${id}`);

const loadText = () => `load average ${loadavg().map((n) => n.toFixed(1)).join(' ')}`;

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const started = performance.now();
  compileChildren();
  const primary: NodeBinary = { path: settings.node, version: versionOf(settings.node) };
  const serverNode = primary.version;
  const { nodes, notes } = settings.tenancyOnly ? { nodes: [primary], notes: [] } : resolveNodes(primary);
  console.log('vm-lifecycle-api bench');
  console.log(`  server node : ${serverNode} (${settings.node})${settings.nodeFlags.length ? ` flags: ${settings.nodeFlags.join(' ')}` : ''}`);
  console.log(`  GET /vms/{id} on : ${nodes.map((n) => `${n.version} (${n.path})`).join(', ')}`);
  for (const note of notes) console.log(`  ${note}`);
  console.log(`  load (autocannon) node : ${process.version}, ${availableParallelism()} cores, ${loadText()}`);
  console.log(
    `  ${settings.durationS} s of measurement per scenario in ${settings.slices} slices taken side by side with the other ` +
      `scenarios of its group; ${settings.warmupS} s warm-up each; ${settings.connections} connections; 127.0.0.1 only` +
      (only === '' ? '' : `; BENCH_ONLY=${only}`),
  );

  let heap: HeapMessage | undefined;
  let volumeHeap: HeapMessage | undefined;
  let churn: ChurnMessage | undefined;
  if (only === '') {
    // 1. Heap per VM, first, in a fresh process of its own.
    console.log(`\n[setup] heap measure: ${settings.bigVms.toLocaleString('en-US')} VMs in a fresh process (--expose-gc)`);
    const heapChild = startChild('bench/heap.ts', ['--vms', String(settings.bigVms)], ['--expose-gc']);
    heap = await awaitMessage<HeapMessage>(heapChild, 'heap', 'heap measure', 300_000);
    await stopChild(heapChild);
    console.log(`[setup] heap measure: ${settings.bigVms.toLocaleString('en-US')} volumes in a fresh process (--expose-gc)`);
    const volumeHeapChild = startChild('bench/heap.ts', ['--volumes', String(settings.bigVms)], ['--expose-gc']);
    volumeHeap = await awaitMessage<HeapMessage>(volumeHeapChild, 'heap', 'volume heap measure', 300_000);
    await stopChild(volumeHeapChild);

    // 1b. Churn: an hour of create+delete with and without the memory caps, in a fresh process too.
    console.log(`[setup] churn measure: ${settings.churnPairs.toLocaleString('en-US')} create+delete pairs over a simulated hour, twice (fresh process, --expose-gc)`);
    const churnChild = startChild('bench/churn.ts', ['--pairs', String(settings.churnPairs), '--rate', String(settings.churnRate)], ['--expose-gc']);
    churn = await awaitMessage<ChurnMessage>(churnChild, 'churn', 'churn measure', 900_000);
    await stopChild(churnChild);
  }

  // 2. Servers: all up at once, measured one at a time. A bare Express and a real app (1k VMs) on
  // every node of the GET comparison; the list and POST scenarios run on the server node only.
  const tenantCount = 100;
  console.log(`[setup] starting servers: bare Express baseline and real app (1k VMs) on ${nodes.map((n) => n.version).join(' and ')}` +
    (only !== '' ? '' : `; real app (${settings.bigVms.toLocaleString('en-US')} VMs) on ${serverNode}`) +
    (settings.getOnly ? '' : `; keyed real apps (1k VMs, and ${tenantCount} tenants x 1k) on ${serverNode}`));
  const pairOn = async (node: NodeBinary) => {
    const [baseline, real] = await Promise.all([
      startServer('baseline', settings.smallVms, `baseline ${node.version}`, node.path),
      startServer('real', settings.smallVms, `real 1k ${node.version}`, node.path, ['--volumes', String(settings.smallVms)]),
    ]);
    return { node, baseline, real };
  };
  const [pairs, big, keyed, tenanted] = await Promise.all([
    Promise.all(nodes.map(pairOn)),
    only !== '' ? undefined : startServer('real', settings.bigVms, 'real big', settings.node, ['--volumes', String(settings.bigVms)]),
    settings.getOnly ? undefined : startServer('real', settings.smallVms, 'keys 1k', settings.node, ['--auth', 'keys']),
    settings.getOnly ? undefined : startServer('real', settings.smallVms * tenantCount, 'keys 100t', settings.node, ['--auth', 'keys', '--tenants', String(tenantCount)]),
  ]);
  const home = pairs.find((p) => p.node.version === serverNode) ?? (settings.getOnly ? undefined : await pairOn(primary));
  const servers = [...pairs.flatMap((p) => [p.baseline, p.real]), ...(home && !pairs.includes(home) ? [home.baseline, home.real] : []), ...[big, keyed, tenanted].filter((sv): sv is Server => sv !== undefined)];
  for (const sv of servers) {
    console.log(`  ${sv.label.padEnd(18)} pid ${sv.child.pid} port ${sv.port} node ${sv.node}: ${sv.vms.toLocaleString('en-US')} VMs stored in ${Math.round(sv.populateMs)} ms`);
  }
  for (const p of pairs) {
    if (p.baseline.node !== p.node.version || p.real.node !== p.node.version) throw new Error(`the servers for ${p.node.version} run another node`);
  }

  const gets = pairs.map((p) => ({
    node: p.node.version,
    base: scenario(`get.baseline@${p.node.version}`, `bare Express (Map lookup), ${p.node.version}`, p.baseline, { method: 'GET', paths: byIdPaths(p.baseline) }),
    real: scenario(`get.real@${p.node.version}`, `real app, ${p.node.version}`, p.real, { method: 'GET', paths: byIdPaths(p.real) }),
  }));
  const groups: Scenario[][] = settings.tenancyOnly ? [] : [gets.flatMap((g) => [g.base, g.real])];

  const others = home && big ? otherScenarios(home.baseline, home.real, big) : undefined;
  const tenancy = home && keyed && tenanted ? tenancyScenarios(home.real, keyed, tenanted, tenantCount) : undefined;
  for (const part of [others, tenancy]) {
    if (!part) continue;
    await part.prepare();
    groups.push(...part.groups);
  }

  // 3. Each group: warm every member, then slices in turn (A B C, C B A, ...), so that whatever else
  // the machine is doing falls on all members alike.
  const slice = settings.durationS / settings.slices;
  for (const group of groups) {
    for (const sc of group) await load(sc.server, sc.spec, settings.warmupS);
    for (let i = 0; i < settings.slices; i++) {
      for (const sc of i % 2 === 0 ? group : [...group].reverse()) sc.slices.push(await measuredSlice(sc.server, sc.spec, slice));
    }
    for (const sc of group) {
      const m = summary(sc);
      const slices = m.sliceRps.map((r) => Math.round(r).toLocaleString('en-US')).join(' ');
      console.log(`  measured ${sc.key.padEnd(24)} ${fmtRps(m.rps)} req/s  p50 ${fmtMs(m.p50)}  p99 ${fmtMs(m.p99)}  CPU ${fmtUs(m.cpuPerRequest)}/req  slices: ${slices}${m.bad ? `  !! ${m.bad} non-2xx/errors` : ''}`);
    }
  }

  // 4. Report.
  console.log(`\n==== results (server node ${serverNode}; ${settings.durationS} s per scenario, ${settings.slices} side-by-side slices; ${loadText()}) ====`);

  const getRatios = settings.tenancyOnly ? [] : gets.map((g) => ({ ...g, ratio: ratio(g.base, g.real), ok: valid(g.base, g.real) }));
  if (getRatios.length > 0) console.log(`\n1. GET ${API}/vms/{id}  (ids spread over the 1k store; every node's pair measured in turn with the others)`);
  for (const g of getRatios) {
    console.log(`  node ${g.node}`);
    console.log(`  ${row(g.base)}`);
    console.log(`  ${row(g.real)}`);
    console.log(`    real / baseline: ${g.ratio.text}`);
  }
  // CPU per request is the steadier figure on a shared machine: req/s moves with whatever else
  // runs, the server's own CPU time per answer hardly does. bare/real CPU is the req/s ratio the
  // two would reach if each had a core to itself.
  if (getRatios.length > 0) console.log(`\n  side by side          bare Express      real app   real/bare (target 0.8x)   CPU per request: bare / real = ratio`);
  for (const g of getRatios) {
    const [base, real] = [summary(g.base), summary(g.real)];
    const cpu = `${base.cpuPerRequest.toFixed(1)} / ${real.cpuPerRequest.toFixed(1)} us = ${fmtX(base.cpuPerRequest / real.cpuPerRequest)}`;
    console.log(`  ${g.node.padEnd(14)} ${fmtRps(base.rps)} req/s ${fmtRps(real.rps)} req/s   ${fmtX(g.ratio.rps).padEnd(26)}${cpu}`);
  }
  for (const g of getRatios) {
    console.log(verdict(`GET /vms/{id} real >= 0.8x bare req/s on ${g.node}`, g.ok && g.ratio.rps >= 0.8, `${fmtX(g.ratio.rps)} of bare`));
  }

  if (others && heap && volumeHeap && churn) others.report(heap, volumeHeap, churn);
  tenancy?.report();

  console.log(`\n==== summary (server node ${serverNode}; GET on ${nodes.map((n) => n.version).join(', ')}; ${loadText()}) ====`);
  for (const v of verdicts) console.log(`  ${v.pass ? 'PASS' : 'FAIL'}  ${v.target}: ${v.detail}`);
  console.log(`  took ${Math.round((performance.now() - started) / 1000)} s`);

  if (process.env.BENCH_JSON) {
    const dump = {
      serverNode,
      getNodes: nodes,
      loadNode: process.version,
      loadAverage: loadavg(),
      settings,
      scenarios: [...groups.flat()].map((sc) => ({ key: sc.key, label: sc.label, node: sc.server.node, ...summary(sc) })),
      getRatios: getRatios.map((g) => ({ node: g.node, rps: g.ratio.rps, rpsPooled: g.ratio.rpsPooled, p50: g.ratio.p50, p99: g.ratio.p99, cpu: g.ratio.cpu })),
      heap,
      volumeHeap,
      churn,
      verdicts,
    };
    writeFileSync(process.env.BENCH_JSON, `${JSON.stringify(dump, null, 2)}\n`);
    console.log(`  wrote ${process.env.BENCH_JSON}`);
  }

  await Promise.all(servers.map((sv) => stopChild(sv.child)));
}

/** The list and POST scenarios (on the server node), and the report of them and of the heap and churn measures. */
const listPath = (cursor?: string, collection = 'vms') => [`${API}/${collection}?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`];

/** "Within 1.2x": the bigger store's page may be at most 1.2x slower, in req/s and in median latency. */
const within = (r: Ratio) => 1 / r.rps <= 1.2 && r.p50 <= 1.2;

function otherScenarios(baseline: Server, small: Server, big: Server) {
  const serverNode = small.node;
  const bigLabel = `${Math.round(settings.bigVms / 1000)}k`;
  const list = listPath;
  const s = {
    listSmall: scenario('list.1k.first', 'real app, 1k stored, first page', small, { method: 'GET', paths: list() }),
    listBig: scenario('list.big.first', `real app, ${bigLabel} stored, first page`, big, { method: 'GET', paths: list() }),
    deepSmall: scenario('list.1k.deep', 'real app, 1k stored, deep page (after 500)', small, { method: 'GET', paths: [] }),
    deepBig: scenario('list.big.deep', `real app, ${bigLabel} stored, deep page (after ${Math.floor(settings.bigVms / 2000)}k)`, big, { method: 'GET', paths: [] }),
    listBase: scenario('list.baseline', 'bare Express, 1k stored, first page', baseline, { method: 'GET', paths: list() }),
    postBase: scenario('post.baseline', 'bare Express (Map set)', baseline, { method: 'POST', paths: [`${API}/vms`], body: createBody }),
    postReal: scenario('post.real', 'real app (1k store, growing)', small, { method: 'POST', paths: [`${API}/vms`], body: createBody }),
    volumesSmall: scenario('volumes.1k.first', 'real app, 1k volumes stored, first page', small, { method: 'GET', paths: list(undefined, 'volumes') }),
    volumesBig: scenario('volumes.big.first', `real app, ${bigLabel} volumes stored, first page`, big, { method: 'GET', paths: list(undefined, 'volumes') }),
    volumesDeepSmall: scenario('volumes.1k.deep', 'real app, 1k volumes stored, deep page (after 500)', small, { method: 'GET', paths: [] }),
    volumesDeepBig: scenario('volumes.big.deep', `real app, ${bigLabel} volumes stored, deep page (after ${Math.floor(settings.bigVms / 2000)}k)`, big, { method: 'GET', paths: [] }),
  };
  const groups: Scenario[][] = [
    [s.listSmall, s.listBig, s.deepSmall, s.deepBig, s.listBase],
    [s.postBase, s.postReal],
    [s.volumesSmall, s.volumesBig, s.volumesDeepSmall, s.volumesDeepBig],
  ];

  /** The deep pages' cursors, got by following the pages through the API; before the groups run. */
  const prepare = async () => {
    const smallDeep = await cursorAfter(small, settings.smallVms / 2);
    const bigDeep = await cursorAfter(big, Math.floor(settings.bigVms / 2));
    s.deepSmall.spec.paths.push(...list(smallDeep.cursor));
    s.deepBig.spec.paths.push(...list(bigDeep.cursor));
    s.volumesDeepSmall.spec.paths.push(...list((await cursorAfter(small, settings.smallVms / 2, 'volumes')).cursor, 'volumes'));
    s.volumesDeepBig.spec.paths.push(...list((await cursorAfter(big, Math.floor(settings.bigVms / 2), 'volumes')).cursor, 'volumes'));
    console.log(`  deep cursors: 1k store after ${settings.smallVms / 2} VMs (${smallDeep.pages} page(s) followed, page starts at ${smallDeep.firstName}); ` +
      `big store after ${Math.floor(settings.bigVms / 2).toLocaleString('en-US')} VMs (${bigDeep.pages} pages followed, page starts at ${bigDeep.firstName})`);
  };

  const report = (heap: HeapMessage, volumeHeap: HeapMessage, churn: ChurnMessage) => {
    console.log(`\n2. GET ${API}/vms?limit=50  (node ${serverNode})`);
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
    const withinText = (r: Ratio) => `1k/${bigLabel} req/s ${fmtX(1 / r.rps)}, ${bigLabel}/1k p50 ${fmtX(r.p50)}`;
    console.log(verdict(`list first page at ${bigLabel} within 1.2x of 1k`, valid(s.listSmall, s.listBig) && within(first), withinText(first)));
    console.log(verdict(`list deep page at ${bigLabel} within 1.2x of 1k`, valid(s.deepSmall, s.deepBig) && within(deep), withinText(deep)));

    console.log(`\n3. POST ${API}/vms  (a new VM per request, unique names; node ${serverNode})`);
    console.log(row(s.postBase));
    console.log(row(s.postReal));
    const post = ratio(s.postBase, s.postReal);
    console.log(`  real / baseline: ${post.text}   (no target; for the record)`);
    if (!valid(s.postBase, s.postReal)) console.log('  !! some creates did not answer 2xx');

    console.log(`\n4. Heap per VM  (${heap.count.toLocaleString('en-US')} VMs created through the repository, fresh process, node ${heap.node})`);
    const mb = (n: number) => `${(n / 1_048_576).toFixed(1)} MB`;
    console.log(`  heapUsed ${mb(heap.beforeBytes)} -> ${mb(heap.afterBytes)}: ${Math.round(heap.bytesPerItem)} bytes per VM`);
    console.log(verdict('heap <= 1024 bytes per VM', heap.bytesPerItem <= 1024, `${Math.round(heap.bytesPerItem)} bytes per VM`));

    console.log(`\n7. Volumes  (GET ${API}/volumes?limit=50, node ${serverNode}; heap: ${volumeHeap.count.toLocaleString('en-US')} volumes through the repository, fresh process, node ${volumeHeap.node})`);
    for (const sc of [s.volumesSmall, s.volumesBig, s.volumesDeepSmall, s.volumesDeepBig]) console.log(row(sc));
    const volumesFirst = ratio(s.volumesSmall, s.volumesBig);
    const volumesDeep = ratio(s.volumesDeepSmall, s.volumesDeepBig);
    console.log(`  ${bigLabel} / 1k, first page: ${volumesFirst.text}`);
    console.log(`  ${bigLabel} / 1k, deep page : ${volumesDeep.text}`);
    console.log(verdict(`volume list first page at ${bigLabel} within 1.2x of 1k`, valid(s.volumesSmall, s.volumesBig) && within(volumesFirst), withinText(volumesFirst)));
    console.log(verdict(`volume list deep page at ${bigLabel} within 1.2x of 1k`, valid(s.volumesDeepSmall, s.volumesDeepBig) && within(volumesDeep), withinText(volumesDeep)));
    console.log(`  heapUsed ${mb(volumeHeap.beforeBytes)} -> ${mb(volumeHeap.afterBytes)}: ${Math.round(volumeHeap.bytesPerItem)} bytes per volume`);
    console.log(verdict('heap <= 1024 bytes per volume', volumeHeap.bytesPerItem <= 1024, `${Math.round(volumeHeap.bytesPerItem)} bytes per volume`));

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
  };

  return { groups, prepare, report };
}

/**
 * Scenario 6, tenants and keys (on the server node): the keyed GET side by side with the same GET
 * on the AUTH_MODE=none app (`small`), and one tenant's pages with 100 tenants' VMs stored side by
 * side with one tenant's alone.
 */
function tenancyScenarios(small: Server, keyed: Server, tenanted: Server, tenantCount: number) {
  const serverNode = small.node;
  const list = listPath;
  const s = {
    // Its own scenario (not get.real again), so that its slices are taken side by side with the keyed ones.
    getNone: scenario('get.none', 'real app, AUTH_MODE=none', small, { method: 'GET', paths: byIdPaths(small) }),
    getKeyed: scenario('get.keys', 'real app, AUTH_MODE=keys, a member key', keyed, { method: 'GET', paths: byIdPaths(keyed) }),
    listOne: scenario('list.1t.first', 'keys, one tenant of 1k, first page', keyed, { method: 'GET', paths: list() }),
    listMany: scenario('list.100t.first', `keys, one tenant of ${tenantCount} x 1k, first page`, tenanted, { method: 'GET', paths: list() }),
    deepOne: scenario('list.1t.deep', 'keys, one tenant of 1k, deep page (after 500)', keyed, { method: 'GET', paths: [] }),
    deepMany: scenario('list.100t.deep', `keys, one tenant of ${tenantCount} x 1k, deep page (after 500)`, tenanted, { method: 'GET', paths: [] }),
  };
  const groups: Scenario[][] = [
    [s.getNone, s.getKeyed],
    [s.listOne, s.listMany, s.deepOne, s.deepMany],
  ];

  /** The deep pages' cursors, got by following the pages through the API; before the groups run. */
  const prepare = async () => {
    s.deepOne.spec.paths.push(...list((await cursorAfter(keyed, settings.smallVms / 2)).cursor));
    s.deepMany.spec.paths.push(...list((await cursorAfter(tenanted, settings.smallVms / 2)).cursor));
  };

  const report = () => {
    console.log(`\n6. Tenants and keys  (node ${serverNode})`);
    console.log(row(s.getNone));
    console.log(row(s.getKeyed));
    const keyedGet = ratio(s.getNone, s.getKeyed);
    console.log(`  keys / none: ${keyedGet.text}`);
    console.log(verdict('GET /vms/{id} with a key >= 0.9x of AUTH_MODE=none', valid(s.getNone, s.getKeyed) && keyedGet.rps >= 0.9, `${fmtX(keyedGet.rps)} of none`));
    // The same target in the server's CPU time, which a loaded machine does not blur: 0.9x the req/s of a CPU-bound server is 1/0.9 its CPU per request.
    console.log(verdict('GET /vms/{id} with a key, server CPU per request <= 1.11x of AUTH_MODE=none', valid(s.getNone, s.getKeyed) && keyedGet.cpu <= 1 / 0.9, `${fmtX(keyedGet.cpu)} (${fmtUs(summary(s.getKeyed).cpuPerRequest)} vs ${fmtUs(summary(s.getNone).cpuPerRequest)})`));
    for (const sc of [s.listOne, s.listMany, s.deepOne, s.deepMany]) console.log(row(sc));
    const tenantFirst = ratio(s.listOne, s.listMany);
    const tenantDeepRatio = ratio(s.deepOne, s.deepMany);
    console.log(`  ${tenantCount} tenants / one, first page: ${tenantFirst.text}`);
    console.log(`  ${tenantCount} tenants / one, deep page : ${tenantDeepRatio.text}`);
    const tenantText = (r: Ratio) => `one/${tenantCount}t req/s ${fmtX(1 / r.rps)}, ${tenantCount}t/one p50 ${fmtX(r.p50)}`;
    console.log(verdict(`one tenant's first page with ${tenantCount} x 1k stored within 1.2x of one tenant`, valid(s.listOne, s.listMany) && within(tenantFirst), tenantText(tenantFirst)));
    console.log(verdict(`one tenant's deep page with ${tenantCount} x 1k stored within 1.2x of one tenant`, valid(s.deepOne, s.deepMany) && within(tenantDeepRatio), tenantText(tenantDeepRatio)));
    for (const [page, r] of [['first', tenantFirst], ['deep', tenantDeepRatio]] as const) {
      console.log(verdict(`one tenant's ${page} page with ${tenantCount} x 1k stored, server CPU per request within 1.2x of one tenant`, r.cpu <= 1.2, fmtX(r.cpu)));
    }
  };

  return { groups, prepare, report };
}

main()
  .catch((error: unknown) => {
    console.error('bench failed:', error);
    process.exitCode = 1;
  })
  .finally(async () => {
    await Promise.all([...children].map(stopChild));
  });
