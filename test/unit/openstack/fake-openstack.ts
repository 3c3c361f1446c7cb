/**
 * The one fake OpenStack of the unit tests: a node:http server on 127.0.0.1, port 0, that plays
 * Keystone under /identity, Nova under /compute, Glance under /image and Neutron under /network,
 * serving the recordings in test/fixtures/openstack/ and remembering every request it saw.
 *
 * The client's tests give it explicit routes; the OpenStack backend's tests start it with
 * `{ cloud: true }`, which adds a small stateful cloud behind the routes (fake-cloud.ts). Faults
 * (`fail`) answer before either.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { FakeCloud } from './fake-cloud.js';
import { fixture } from './fixtures.js';

export { fixture } from './fixtures.js';

export interface SeenRequest {
  method: string;
  /** "METHOD /path?query", for matching with a pattern (see lines). */
  line: string;
  /** Path and query, as received. */
  url: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface Reply {
  status: number;
  body?: unknown;
  /** Sent as is, instead of JSON. */
  text?: string;
  headers?: Record<string, string>;
}

/** 'hang' never answers; 'destroy' drops the connection without an answer. */
export type Handler = (req: SeenRequest, res: ServerResponse) => Reply | 'hang' | 'destroy' | Promise<Reply | 'hang' | 'destroy'>;

export interface FakeOpenStackOptions {
  /** Adds the stateful cloud (servers that move, flavors, images, networks) behind the routes. */
  cloud?: boolean;
}

export class FakeOpenStack {
  readonly seen: SeenRequest[] = [];
  readonly url: string;
  /** The stateful cloud, when started with `{ cloud: true }`. */
  readonly cloud: FakeCloud | undefined;
  private readonly server: Server;
  private readonly routes = new Map<string, Handler>();
  /** Overrides: the first whose pattern matches "METHOD /path" answers instead, `times` times. */
  private readonly faults: { pattern: RegExp; reply: Reply | 'destroy'; times: number }[] = [];
  private tokensIssued = 0;
  /** The catalog every token carries; tests may rewrite it. */
  catalog: unknown[];

  private constructor(server: Server, options: FakeOpenStackOptions) {
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.cloud = options.cloud ? new FakeCloud() : undefined;
    this.catalog = rewriteHosts(fixture<{ token: { catalog: unknown[] } }>('keystone-token-password.json').token.catalog, this.url);
    this.route('POST', '/identity/v3/auth/tokens', (req) => this.issueToken(req));
  }

  static async start(options: FakeOpenStackOptions = {}): Promise<FakeOpenStack> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const fake = new FakeOpenStack(server, options);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void fake.handle(req, res));
    return fake;
  }

  get authUrl(): string {
    return `${this.url}/identity/v3`;
  }

  /** Replaces the handler of `METHOD /path` (path without query). */
  route(method: string, path: string, handler: Handler | Reply): void {
    this.routes.set(`${method} ${path}`, typeof handler === 'function' ? handler : () => handler);
  }

  /** Answers with each reply in turn, then keeps repeating the last one. */
  sequence(method: string, path: string, replies: (Reply | 'hang' | 'destroy')[]): void {
    let index = 0;
    this.route(method, path, () => replies[Math.min(index++, replies.length - 1)] as Reply | 'hang' | 'destroy');
  }

  requests(method: string, path: string): SeenRequest[] {
    return this.seen.filter((req) => req.method === method && req.path === path);
  }

  /** The "METHOD /path?query" lines of the requests seen that match. */
  lines(pattern: RegExp): string[] {
    return this.seen.map((req) => req.line).filter((line) => pattern.test(line));
  }

  /** Answers requests whose "METHOD /path" matches with `reply`, the next `times` times. */
  fail(pattern: RegExp, reply: Reply | 'destroy', times = 1): void {
    this.faults.push({ pattern, reply, times });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  get tokenRequests(): SeenRequest[] {
    return this.requests('POST', '/identity/v3/auth/tokens');
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private issueToken(req: SeenRequest): Reply {
    this.tokensIssued++;
    const methods = (req.body as { auth: { identity: { methods: string[] } } }).auth.identity.methods;
    const sample = methods.includes('application_credential') ? 'keystone-token-appcred.json' : 'keystone-token-password.json';
    const body = fixture<{ token: Record<string, unknown> }>(sample);
    body.token['catalog'] = this.catalog;
    return { status: 201, body, headers: { 'X-Subject-Token': `token-${this.tokensIssued}` } };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', this.url);
    const method = req.method ?? 'GET';
    const seen: SeenRequest = {
      method,
      line: `${method} ${url.pathname}${url.search}`,
      url: req.url ?? '/',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: text.length > 0 ? JSON.parse(text) : undefined,
    };
    this.seen.push(seen);
    const reply = await this.answer(seen, url, res);
    if (reply === 'hang') return;
    if (reply === 'destroy') {
      req.socket.destroy();
      return;
    }
    const payload = reply.text ?? (reply.body === undefined ? '' : JSON.stringify(reply.body));
    res.writeHead(reply.status, {
      'Content-Type': reply.text === undefined ? 'application/json' : 'text/html',
      'X-OpenStack-Request-ID': 'req-00000000-0000-4000-8000-000000000001',
      ...reply.headers,
    });
    res.end(payload);
  }

  private async answer(seen: SeenRequest, url: URL, res: ServerResponse): Promise<Reply | 'hang' | 'destroy'> {
    const fault = this.faults.find((f) => f.times > 0 && f.pattern.test(`${seen.method} ${seen.path}`));
    if (fault) {
      fault.times -= 1;
      return fault.reply;
    }
    const handler = this.routes.get(`${seen.method} ${seen.path}`);
    if (handler) return handler(seen, res);
    return (
      this.cloud?.route(seen.method, url, seen.body, this.url) ?? {
        status: 404,
        body: { itemNotFound: { code: 404, message: `fake has no route ${seen.method} ${seen.path}` } },
      }
    );
  }
}

/** The recorded catalog points at the real ports; point it at the fake. */
export function rewriteHosts<T>(value: T, base: string): T {
  const text = JSON.stringify(value)
    .replaceAll('http://127.0.0.1:5000', `${base}/identity`)
    .replaceAll('http://127.0.0.1:8774', `${base}/compute`)
    .replaceAll('http://127.0.0.1:9292', `${base}/image`)
    .replaceAll('http://127.0.0.1:9696', `${base}/network`);
  return JSON.parse(text) as T;
}

/**
 * The API's environment for BACKEND=openstack on this fake, as the demo user. Tenants stay in the
 * process: the fake plays no Keystone admin.
 */
export function fakeCloudEnv(fake: FakeOpenStack, extra: Record<string, string> = {}): Record<string, string> {
  return {
    BACKEND: 'openstack',
    OS_AUTH_URL: fake.authUrl,
    OS_USERNAME: 'demo',
    OS_PASSWORD: 'secret',
    OS_PROJECT_NAME: 'demo',
    OS_NETWORK: 'private',
    OS_TENANTS: 'process',
    ...extra,
  };
}

/** A debug-level pino logger whose lines the test can read. */
export function capturingLogger(): { logger: Logger; lines: () => string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'));
      callback();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines: () => lines };
}

/** A port nothing listens on (a closed ephemeral port), for connection-refused tests. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
