/**
 * A loopback HTTP proxy in front of ONE real OpenStack service (Keystone, Nova, Glance, Neutron),
 * with switchable faults, for the fault-injection tests and the OpenStack bench.
 *
 * - pass-through by default; every request it sees is counted by method and path;
 * - faults, each optionally limited to a method and a path pattern and to the first `times`
 *   matching requests: delay before forwarding, answer a status with a Nova-like (or Keystone-like)
 *   JSON body, or reset the connection before or after the upstream saw the request;
 * - `down()` closes the port (connection refused) and `up()` opens the same port again;
 * - a Keystone proxy can rewrite the service catalog in token responses so that chosen service
 *   types point at other proxies: the client under test then reaches those services only through
 *   them (the catalog, not the configuration, says where Nova is).
 *
 * Test code: small, no streaming niceties (bodies are buffered), loopback only.
 */
import { once } from 'node:events';
import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export type Fault =
  /** Waits before forwarding (the client's timeout should fire first); forwards only if the client is still there. */
  | { kind: 'delay'; ms: number }
  /** Answers this status with a JSON body (default: a Nova-like error body for the status); upstream never sees the request. */
  | { kind: 'status'; status: number; body?: unknown }
  /**
   * Destroys the client's socket without an answer. `before`: upstream never sees the request;
   * `after`: upstream gets the request (and e.g. creates a server); the client's connection is
   * destroyed as soon as it is sent, and upstream's answer is thrown away.
   */
  | { kind: 'reset'; when?: 'before' | 'after' };

export interface FaultRule {
  fault: Fault;
  /** Only requests with this method (any when absent). */
  method?: string;
  /** Only requests whose path (without the query) matches (any when absent). A string must match exactly. */
  path?: RegExp | string;
  /** Only the first `times` matching requests; then the rule is spent (for ever when absent). */
  times?: number;
}

export interface SeenRequest {
  method: string;
  /** Path without the query. */
  path: string;
  query: string;
  /** What happened: 'pass' or the fault kind applied. */
  outcome: 'pass' | Fault['kind'];
  /** Upstream's status when it answered (pass-through, delay, reset after). */
  status?: number;
  at: number;
}

export interface FaultProxyOptions {
  /** For messages, e.g. "nova". */
  name: string;
  /** Origin of the real service, e.g. http://127.0.0.1:8774. */
  upstream: string;
  /**
   * Keystone only: service type -> proxy origin. Token responses (POST .../auth/tokens, GET
   * .../auth/tokens) get every endpoint of these types re-pointed at the proxy (same path).
   */
  catalogRewrite?: () => Record<string, string>;
  /** Port to listen on; default a free one. */
  port?: number;
}

const keystoneUnauthorized = {
  error: { code: 401, message: 'The request you have made requires authentication.', title: 'Unauthorized' },
};

/** The body a real service would send with this status (Nova's shapes; Keystone's for 401). */
export function defaultErrorBody(status: number): unknown {
  switch (status) {
    case 401:
      return keystoneUnauthorized;
    case 500:
      return {
        computeFault: {
          code: 500,
          message: 'Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible.\n<class \'oslo_db.exception.DBConnectionError\'>',
        },
      };
    case 503:
      return { serviceUnavailable: { code: 503, message: 'The server is currently unavailable. Please try again at a later time.' } };
    default:
      return { computeFault: { code: status, message: `injected ${status}` } };
  }
}

export class FaultProxy {
  readonly name: string;
  readonly upstream: URL;
  /** Every request seen, in order (cleared by resetCounts). */
  readonly seen: SeenRequest[] = [];
  private rules: (FaultRule & { used: number })[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });
  private readonly catalogRewrite: (() => Record<string, string>) | undefined;
  private portNumber: number;

  private constructor(options: FaultProxyOptions) {
    this.name = options.name;
    this.upstream = new URL(options.upstream);
    this.catalogRewrite = options.catalogRewrite;
    this.portNumber = options.port ?? 0;
  }

  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const proxy = new FaultProxy(options);
    await proxy.up();
    return proxy;
  }

  get port(): number {
    return this.portNumber;
  }

  /** http://127.0.0.1:<port> */
  get origin(): string {
    return `http://127.0.0.1:${this.portNumber}`;
  }

  get isUp(): boolean {
    return this.server !== undefined;
  }

  /** Listens (again) on this proxy's port; the first call picks a free port unless one was given. */
  async up(): Promise<void> {
    if (this.server) return;
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) {
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ proxyError: { code: 502, message: `fault proxy ${this.name}: ${String(err)}` } }));
        } else {
          res.destroy();
        }
      });
    });
    server.keepAliveTimeout = 30_000;
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.listen(this.portNumber, '127.0.0.1');
    await once(server, 'listening');
    this.portNumber = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops listening and drops every connection: clients now get ECONNREFUSED on this port. */
  async down(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await closed;
  }

  async close(): Promise<void> {
    await this.down();
    this.agent.destroy();
  }

  /** Adds a fault rule (checked in the order added; the first live match applies). */
  inject(rule: FaultRule): this {
    this.rules.push({ ...rule, used: 0 });
    return this;
  }

  /** Removes every fault: pass-through from now on. */
  clearFaults(): this {
    this.rules = [];
    return this;
  }

  resetCounts(): this {
    this.seen.length = 0;
    return this;
  }

  /** Requests seen with this method (any when undefined) whose path matches (any when undefined). */
  count(method?: string, path?: RegExp | string): number {
    return this.seen.filter((r) => matches(r.method, r.path, method, path)).length;
  }

  /** "GET /v2.1/servers/x" -> how many, for messages. */
  summary(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.seen) {
      const key = `${r.method} ${r.path}`;
      out[key] = (out[key] ?? 0) + 1;
    }
    return out;
  }

  private pickFault(method: string, path: string): Fault | undefined {
    for (const rule of this.rules) {
      if (rule.times !== undefined && rule.used >= rule.times) continue;
      if (!matches(method, path, rule.method, rule.path)) continue;
      rule.used++;
      return rule.fault;
    }
    return undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://proxy.invalid');
    const method = req.method ?? 'GET';
    const record: SeenRequest = { method, path: url.pathname, query: url.search, outcome: 'pass', at: Date.now() };
    this.seen.push(record);
    const body = await readBody(req);
    const fault = this.pickFault(method, url.pathname);
    if (fault) record.outcome = fault.kind;

    if (fault?.kind === 'status') {
      const text = JSON.stringify(fault.body ?? defaultErrorBody(fault.status));
      res.writeHead(fault.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    if (fault?.kind === 'reset' && fault.when !== 'after') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'delay') {
      const gone = new AbortController();
      res.once('close', () => gone.abort());
      await sleep(fault.ms, undefined, { signal: gone.signal }).catch(() => undefined);
      // The client gave up (its timeout): do not act on the request behind its back.
      if (gone.signal.aborted || res.destroyed) return;
    }

    if (fault?.kind === 'reset') {
      // Upstream gets the whole request and acts on it; the client loses its connection as soon as
      // the request is sent, without waiting for the (possibly slow) answer, which is thrown away.
      const answered = this.forward(method, req.url ?? '/', req.headers, body, () => req.socket.destroy());
      record.status = (await answered).status;
      return;
    }
    const upstream = await this.forward(method, req.url ?? '/', req.headers, body);
    record.status = upstream.status;
    let payload = upstream.body;
    if (this.catalogRewrite && /\/auth\/tokens$/.test(url.pathname) && upstream.status < 300) {
      payload = rewriteCatalog(payload, this.catalogRewrite());
    }
    const headers = { ...upstream.headers };
    delete headers['transfer-encoding'];
    delete headers['connection'];
    delete headers['keep-alive'];
    headers['content-length'] = String(payload.length);
    if (!res.destroyed) {
      res.writeHead(upstream.status, headers);
      res.end(payload);
    }
  }

  private forward(
    method: string,
    path: string,
    inHeaders: IncomingHttpHeaders,
    body: Buffer,
    onSent?: () => void,
  ): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
    const headers: IncomingHttpHeaders = { ...inHeaders, host: this.upstream.host };
    // Bodies are rewritten as text: ask for them uncompressed.
    delete headers['accept-encoding'];
    delete headers['connection'];
    delete headers['keep-alive'];
    if (body.length > 0) headers['content-length'] = String(body.length);
    return new Promise((resolve, reject) => {
      const upstreamReq = httpRequest(
        { host: this.upstream.hostname, port: this.upstream.port, method, path, headers, agent: this.agent },
        (upstreamRes) => {
          readBody(upstreamRes).then(
            (buffer) => resolve({ status: upstreamRes.statusCode ?? 502, headers: upstreamRes.headers, body: buffer }),
            reject,
          );
        },
      );
      upstreamReq.once('error', reject);
      if (onSent) upstreamReq.once('finish', onSent);
      upstreamReq.end(body.length > 0 ? body : undefined);
    });
  }
}

function matches(method: string, path: string, wantMethod: string | undefined, wantPath: RegExp | string | undefined): boolean {
  if (wantMethod !== undefined && wantMethod.toUpperCase() !== method.toUpperCase()) return false;
  if (wantPath === undefined) return true;
  return typeof wantPath === 'string' ? wantPath === path : wantPath.test(path);
}

async function readBody(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Re-points the catalog's endpoints of the given service types at the given origins, keeping each path. */
export function rewriteCatalog(body: Buffer, byType: Record<string, string>): Buffer {
  const json = JSON.parse(body.toString('utf8')) as { token?: { catalog?: { type: string; endpoints: { url: string }[] }[] } };
  for (const entry of json.token?.catalog ?? []) {
    const origin = byType[entry.type];
    if (origin === undefined) continue;
    for (const endpoint of entry.endpoints) {
      const url = new URL(endpoint.url);
      endpoint.url = origin.replace(/\/+$/, '') + url.pathname.replace(/\/+$/, '') + url.search;
    }
  }
  return Buffer.from(JSON.stringify(json));
}

export interface StackInfo {
  authUrl: string;
  endpoints: Record<string, string>;
  demo: { user: string; password: string; project: string; project_id: string; user_domain: string; project_domain: string };
  images: Record<string, string>;
  flavors: Record<string, string>;
  networks: Record<string, string>;
}

/** A set of proxies: Keystone (rewriting the catalog) in front of Nova, Glance and Neutron proxies. */
export interface ProxiedCloud {
  keystone: FaultProxy;
  nova: FaultProxy;
  glance: FaultProxy;
  neutron: FaultProxy;
  /** The auth URL to give the client under test: the Keystone proxy's /v3. */
  authUrl: string;
  clearAll(): void;
  resetAllCounts(): void;
  close(): Promise<void>;
}

/** Starts the four proxies in front of the running local cloud described by `stack`. */
export async function startProxiedCloud(stack: StackInfo): Promise<ProxiedCloud> {
  const originOf = (url: string): string => new URL(url).origin;
  const [nova, glance, neutron] = await Promise.all([
    FaultProxy.start({ name: 'nova', upstream: originOf(requireEndpoint(stack, 'compute')) }),
    FaultProxy.start({ name: 'glance', upstream: originOf(requireEndpoint(stack, 'image')) }),
    FaultProxy.start({ name: 'neutron', upstream: originOf(requireEndpoint(stack, 'network')) }),
  ]);
  const keystone = await FaultProxy.start({
    name: 'keystone',
    upstream: originOf(stack.authUrl),
    catalogRewrite: () => ({ compute: nova.origin, image: glance.origin, network: neutron.origin }),
  });
  const all = [keystone, nova, glance, neutron];
  return {
    keystone,
    nova,
    glance,
    neutron,
    authUrl: `${keystone.origin}${new URL(stack.authUrl).pathname.replace(/\/+$/, '')}`,
    clearAll: () => all.forEach((p) => p.clearFaults()),
    resetAllCounts: () => all.forEach((p) => p.resetCounts()),
    close: async () => {
      await Promise.all(all.map((p) => p.close()));
    },
  };
}

function requireEndpoint(stack: StackInfo, type: string): string {
  const url = stack.endpoints[type];
  if (url === undefined) throw new Error(`stack.json has no ${type} endpoint`);
  return url;
}

/** Keystone's token path, as the proxies see it. */
export const TOKEN_PATH = /\/v3\/auth\/tokens$/;
