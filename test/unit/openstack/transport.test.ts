import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  OpenStackConnectionError,
  OpenStackHttpError,
  OpenStackShapeError,
  OpenStackTimeoutError,
} from '../../../src/openstack/errors.js';
import { AnyOf, Transport, toOpenStackRequestId, type TransportOptions } from '../../../src/openstack/transport.js';
import { FakeOpenStack, capturingLogger, closedPort, fixture } from './fake-openstack.js';

let fake: FakeOpenStack;

beforeEach(async () => {
  fake = await FakeOpenStack.start();
});

afterEach(async () => {
  await fake.close();
});

/** Fast backoff so retry tests take milliseconds. */
function transport(options: TransportOptions = {}): Transport {
  return new Transport({ timeoutMs: 2_000, backoffBaseMs: 5, backoffMaxMs: 20, ...options });
}

const unavailable = { status: 503, text: '<html><body><h1>503 Service Unavailable</h1>No server is available.</body></html>' };
const ok = { status: 200, body: { servers: [] } };

describe('transport: headers and bodies', () => {
  it('sends JSON, the token, the microversion headers and a req-<uuid> request id', async () => {
    fake.route('POST', '/compute/v2.1/servers', { status: 202, body: { server: { id: 'x' } } });
    const response = await transport().request({
      service: 'compute',
      method: 'POST',
      baseUrl: `${fake.url}/compute/v2.1/`,
      path: '/servers',
      body: { server: { name: 'a' } },
      token: 'secret-token',
      microversion: '2.93',
      requestId: '6F9619FF-8B86-4011-B42D-00C04FC964FF',
    });
    const [seen] = fake.requests('POST', '/compute/v2.1/servers');
    expect(seen?.headers['x-auth-token']).toBe('secret-token');
    expect(seen?.headers['openstack-api-version']).toBe('compute 2.93');
    expect(seen?.headers['x-openstack-nova-api-version']).toBe('2.93');
    expect(seen?.headers['content-type']).toBe('application/json');
    expect(seen?.headers['x-openstack-request-id']).toBe('req-6f9619ff-8b86-4011-b42d-00c04fc964ff');
    expect(seen?.body).toEqual({ server: { name: 'a' } });
    expect(response).toMatchObject({
      status: 202,
      body: { server: { id: 'x' } },
      requestId: 'req-6f9619ff-8b86-4011-b42d-00c04fc964ff',
      upstreamRequestId: 'req-00000000-0000-4000-8000-000000000001',
    });
  });

  it('sends the legacy Nova header only to compute, and no body headers on a GET', async () => {
    fake.route('GET', '/image/v2/images', { status: 200, body: { images: [] } });
    await transport().request({ service: 'image', method: 'GET', baseUrl: `${fake.url}/image`, path: '/v2/images', microversion: '2.5' });
    const [seen] = fake.requests('GET', '/image/v2/images');
    expect(seen?.headers['openstack-api-version']).toBe('image 2.5');
    expect(seen?.headers['x-openstack-nova-api-version']).toBeUndefined();
    expect(seen?.headers['content-type']).toBeUndefined();
    expect(seen?.headers['x-auth-token']).toBeUndefined();
  });

  it('encodes query values: arrays comma-joined, dates in ISO, undefined left out', async () => {
    fake.route('GET', '/compute/v2.1/servers/detail', ok);
    await transport().request({
      service: 'compute',
      method: 'GET',
      baseUrl: `${fake.url}/compute/v2.1`,
      path: '/servers/detail',
      query: { tags: ['a', 'b'], 'changes-since': new Date('2026-11-23T17:20:00Z'), limit: 5, marker: undefined },
    });
    const [seen] = fake.requests('GET', '/compute/v2.1/servers/detail');
    expect(seen?.query.get('tags')).toBe('a,b');
    expect(seen?.query.get('changes-since')).toBe('2026-11-23T17:20:00.000Z');
    expect(seen?.query.get('limit')).toBe('5');
    expect(seen?.query.has('marker')).toBe(false);
  });

  it('sends an AnyOf filter once per value, as Neutron reads "any of" (a comma would be part of one value)', async () => {
    fake.route('GET', '/network/v2.0/networks', ok);
    await transport().request({ service: 'network', method: 'GET', baseUrl: `${fake.url}/network`, path: '/v2.0/networks', query: { id: new AnyOf(['a', 'b']), tags: ['t1', 't2'] } });
    const [seen] = fake.requests('GET', '/network/v2.0/networks');
    expect(seen?.query.getAll('id')).toEqual(['a', 'b']);
    expect(seen?.query.getAll('tags')).toEqual(['t1,t2']);
  });

  it('returns an undefined body for an empty answer (202 to an action)', async () => {
    fake.route('POST', '/compute/v2.1/servers/x/action', { status: 202 });
    const response = await transport().request({ service: 'compute', method: 'POST', baseUrl: `${fake.url}/compute/v2.1`, path: '/servers/x/action', body: { 'os-stop': null } });
    expect(response.status).toBe(202);
    expect(response.body).toBeUndefined();
  });

  it('turns a 2xx body that is not JSON into a shape error', async () => {
    fake.route('GET', '/compute/v2.1/servers', { status: 200, text: '<html>proxy login page</html>' });
    const call = transport().request({ service: 'compute', method: 'GET', baseUrl: `${fake.url}/compute/v2.1`, path: '/servers' });
    await expect(call).rejects.toBeInstanceOf(OpenStackShapeError);
    await expect(call).rejects.toThrow(/not JSON/);
    expect(fake.seen).toHaveLength(1);
  });

  it('raises an HTTP error carrying status, service, Nova message, kind and both request ids', async () => {
    fake.route('POST', '/compute/v2.1/servers/x/action', {
      status: 409,
      body: fixture('compute-error-409-conflict.json'),
      headers: { 'X-OpenStack-Request-ID': 'req-nova' },
    });
    const error = await transport()
      .request({ service: 'compute', method: 'POST', baseUrl: `${fake.url}/compute/v2.1`, path: '/servers/x/action', body: { 'os-start': null }, requestId: 'req-11111111-2222-4333-8444-555555555555' })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(OpenStackHttpError);
    expect(error).toMatchObject({
      status: 409,
      service: 'compute',
      method: 'POST',
      path: '/compute/v2.1/servers/x/action',
      upstreamKind: 'conflictingRequest',
      upstreamMessage: "Cannot 'start' instance ce287d1e-0ae2-4119-9835-885729fc4433 while it is in vm_state active",
      requestId: 'req-11111111-2222-4333-8444-555555555555',
      upstreamRequestId: 'req-nova',
    });
  });
});

describe('transport: request ids', () => {
  it('keeps a req-<uuid>, prefixes a bare UUID and replaces anything else', () => {
    expect(toOpenStackRequestId('req-6f9619ff-8b86-4011-b42d-00c04fc964ff')).toBe('req-6f9619ff-8b86-4011-b42d-00c04fc964ff');
    expect(toOpenStackRequestId('6f9619ff-8b86-4011-b42d-00c04fc964ff')).toBe('req-6f9619ff-8b86-4011-b42d-00c04fc964ff');
    const replaced = toOpenStackRequestId('my-request-42');
    expect(replaced).toMatch(/^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(toOpenStackRequestId(undefined)).not.toBe(toOpenStackRequestId(undefined));
  });

  it('sends the same request id on every retry of one call', async () => {
    fake.sequence('GET', '/compute/v2.1/servers', [unavailable, ok]);
    await transport().request({ service: 'compute', method: 'GET', baseUrl: `${fake.url}/compute/v2.1`, path: '/servers' });
    const ids = fake.seen.map((req) => req.headers['x-openstack-request-id']);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBe(ids[1]);
  });
});

describe('transport: timeouts', () => {
  it('gives up on a service that never answers, with a timeout error and no hang', async () => {
    fake.route('POST', '/compute/v2.1/servers', () => 'hang');
    const started = Date.now();
    const error = await transport({ timeoutMs: 150 })
      .request({ service: 'compute', method: 'POST', baseUrl: `${fake.url}/compute/v2.1`, path: '/servers', body: {} })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(OpenStackTimeoutError);
    expect(error).toMatchObject({ timeoutMs: 150, service: 'compute', method: 'POST' });
    expect(Date.now() - started).toBeLessThan(1_500);
    // A POST that may have reached Nova is never sent twice.
    expect(fake.requests('POST', '/compute/v2.1/servers')).toHaveLength(1);
  });

  it('times out a service that sends headers and then stalls the body', async () => {
    fake.route('GET', '/compute/v2.1/servers', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"servers": [');
      return 'hang';
    });
    const call = transport({ timeoutMs: 150, maxAttempts: 1 }).request({ service: 'compute', method: 'GET', baseUrl: `${fake.url}/compute/v2.1`, path: '/servers' });
    await expect(call).rejects.toBeInstanceOf(OpenStackTimeoutError);
  });

  it('retries a timed-out GET within the total budget', async () => {
    fake.sequence('GET', '/compute/v2.1/servers', ['hang', ok]);
    const response = await transport({ timeoutMs: 150, totalTimeoutMs: 2_000 }).request({ service: 'compute', method: 'GET', baseUrl: `${fake.url}/compute/v2.1`, path: '/servers' });
    expect(response.status).toBe(200);
    expect(fake.seen).toHaveLength(2);
  });

  it('stops retrying when the total budget is spent, even with attempts left', async () => {
    fake.route('GET', '/compute/v2.1/servers', () => 'hang');
    const started = Date.now();
    const call = transport({ timeoutMs: 200, totalTimeoutMs: 300, maxAttempts: 10, backoffBaseMs: 50, backoffMaxMs: 50 }).request({
      service: 'compute',
      method: 'GET',
      baseUrl: `${fake.url}/compute/v2.1`,
      path: '/servers',
    });
    await expect(call).rejects.toBeInstanceOf(OpenStackTimeoutError);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(fake.seen.length).toBeLessThanOrEqual(2);
  });

  it('gives the caller abort reason back, without retrying', async () => {
    const controller = new AbortController();
    // Abort once the request has arrived, not after a fixed delay that a loaded machine may outrun.
    fake.route('GET', '/compute/v2.1/servers', () => {
      controller.abort(new Error('client went away'));
      return 'hang';
    });
    const call = transport().request({ service: 'compute', method: 'GET', baseUrl: `${fake.url}/compute/v2.1`, path: '/servers', signal: controller.signal });
    await expect(call).rejects.toThrow('client went away');
    expect(fake.seen).toHaveLength(1);
  });
});

describe('transport: retries', () => {
  it('retries a GET after 503 and succeeds', async () => {
    fake.sequence('GET', '/compute/v2.1/servers', [unavailable, { status: 502, text: 'bad gateway' }, ok]);
    const pauses: number[] = [];
    const response = await transport({
      sleep: async (ms) => {
        pauses.push(ms);
      },
      random: () => 1,
      backoffBaseMs: 100,
      backoffMaxMs: 150,
    }).request({ service: 'compute', method: 'GET', baseUrl: `${fake.url}/compute/v2.1`, path: '/servers' });
    expect(response.body).toEqual({ servers: [] });
    expect(fake.seen).toHaveLength(3);
    // Exponential, capped: 100 then min(150, 200).
    expect(pauses).toEqual([100, 150]);
  });

  it('waits at least half the backoff step whatever the jitter', async () => {
    fake.sequence('DELETE', '/compute/v2.1/servers/x', [{ status: 504, text: '' }, { status: 204 }]);
    const pauses: number[] = [];
    await transport({ sleep: async (ms) => void pauses.push(ms), random: () => 0, backoffBaseMs: 100, backoffMaxMs: 1_000 }).request({
      service: 'compute',
      method: 'DELETE',
      baseUrl: `${fake.url}/compute/v2.1`,
      path: '/servers/x',
    });
    expect(pauses).toEqual([50]);
  });

  it('gives up after maxAttempts and reports the last 503', async () => {
    fake.route('GET', '/compute/v2.1/servers', unavailable);
    const error = await transport({ maxAttempts: 3 })
      .request({ service: 'compute', method: 'GET', baseUrl: `${fake.url}/compute/v2.1`, path: '/servers' })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(OpenStackHttpError);
    expect(error).toMatchObject({ status: 503, upstreamMessage: '503 Service Unavailable No server is available.' });
    expect(fake.seen).toHaveLength(3);
  });

  it('never retries a POST after 503', async () => {
    fake.sequence('POST', '/compute/v2.1/servers', [unavailable, { status: 202, body: { server: { id: 'x' } } }]);
    const call = transport().request({ service: 'compute', method: 'POST', baseUrl: `${fake.url}/compute/v2.1`, path: '/servers', body: {} });
    await expect(call).rejects.toMatchObject({ status: 503 });
    expect(fake.seen).toHaveLength(1);
  });

  it('does not retry a 500 or a 409, even on GET', async () => {
    fake.route('GET', '/compute/v2.1/servers', { status: 500, body: { computeFault: { code: 500, message: 'boom' } } });
    await expect(
      transport().request({ service: 'compute', method: 'GET', baseUrl: `${fake.url}/compute/v2.1`, path: '/servers' }),
    ).rejects.toMatchObject({ status: 500, upstreamKind: 'computeFault', upstreamMessage: 'boom' });
    expect(fake.seen).toHaveLength(1);
  });

  it('retries a PUT whose connection was reset, and never a POST', async () => {
    fake.sequence('PUT', '/compute/v2.1/servers/x/tags/t', ['destroy', { status: 201 }]);
    const put = await transport().request({ service: 'compute', method: 'PUT', baseUrl: `${fake.url}/compute/v2.1`, path: '/servers/x/tags/t' });
    expect(put.status).toBe(201);
    expect(fake.requests('PUT', '/compute/v2.1/servers/x/tags/t')).toHaveLength(2);

    fake.sequence('POST', '/compute/v2.1/servers', ['destroy', { status: 202, body: { server: { id: 'x' } } }]);
    const error = await transport()
      .request({ service: 'compute', method: 'POST', baseUrl: `${fake.url}/compute/v2.1`, path: '/servers', body: {} })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(OpenStackConnectionError);
    expect((error as OpenStackConnectionError).code).toMatch(/UND_ERR_SOCKET|ECONNRESET/);
    expect(fake.requests('POST', '/compute/v2.1/servers')).toHaveLength(1);
  });
});

describe('transport: connection refused', () => {
  it('raises a connection error naming ECONNREFUSED after bounded attempts', async () => {
    const port = await closedPort();
    let pauses = 0;
    const error = await transport({ sleep: async () => void pauses++ })
      .request({ service: 'compute', method: 'GET', baseUrl: `http://127.0.0.1:${port}/v2.1`, path: '/servers' })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(OpenStackConnectionError);
    expect(error).toMatchObject({ code: 'ECONNREFUSED', service: 'compute', path: '/v2.1/servers' });
    expect((error as Error).message).toContain('ECONNREFUSED');
    expect(pauses).toBe(2);
  });

  it('retries even a POST when the connection was refused, as nothing reached the service', async () => {
    const port = await closedPort();
    const { createServer } = await import('node:http');
    let received = 0;
    const late = createServer((req, res) => {
      received++;
      req.resume();
      res.writeHead(202, { 'Content-Type': 'application/json' }).end('{"server":{"id":"late"}}');
    });
    try {
      const response = await transport({
        // The service comes up during the backoff pause.
        sleep: () => new Promise((resolve) => late.listen(port, '127.0.0.1', () => resolve())),
      }).request({ service: 'compute', method: 'POST', baseUrl: `http://127.0.0.1:${port}`, path: '/servers', body: {} });
      expect(response.body).toEqual({ server: { id: 'late' } });
      expect(received).toBe(1);
    } finally {
      late.closeAllConnections();
      await new Promise((resolve) => late.close(resolve));
    }
  });
});

describe('transport: other connection failures', () => {
  it('reports a failure without a system code by its message, without retrying a POST', async () => {
    // fetch refuses port 1 ("bad port") before connecting: no errno, nothing sent.
    const error = await transport()
      .request({ service: 'compute', method: 'POST', baseUrl: 'http://127.0.0.1:1', path: '/servers', body: {} })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(OpenStackConnectionError);
    expect(error).toMatchObject({ code: undefined, message: 'compute POST /servers failed to connect: bad port' });
  });
});

describe('transport: logging', () => {
  it('logs method, path, status, duration and both request ids at debug, and never the token', async () => {
    fake.route('GET', '/compute/v2.1/servers', ok);
    const { logger, lines } = capturingLogger();
    await transport({ logger }).request({
      service: 'compute',
      method: 'GET',
      baseUrl: `${fake.url}/compute/v2.1`,
      path: '/servers',
      token: 'gAAAA-very-secret-token',
      requestId: 'req-6f9619ff-8b86-4011-b42d-00c04fc964ff',
    });
    const all = lines().join('\n');
    expect(all).not.toContain('gAAAA-very-secret-token');
    const entry = JSON.parse(lines()[0] ?? '{}') as Record<string, unknown>;
    expect(entry).toMatchObject({
      level: 20,
      service: 'compute',
      method: 'GET',
      path: '/compute/v2.1/servers',
      status: 200,
      requestId: 'req-6f9619ff-8b86-4011-b42d-00c04fc964ff',
      upstreamRequestId: 'req-00000000-0000-4000-8000-000000000001',
    });
    expect(typeof entry['durationMs']).toBe('number');
  });

  it('logs failed attempts and retries without the token', async () => {
    fake.sequence('GET', '/compute/v2.1/servers', ['destroy', ok]);
    const { logger, lines } = capturingLogger();
    await transport({ logger }).request({ service: 'compute', method: 'GET', baseUrl: `${fake.url}/compute/v2.1`, path: '/servers', token: 'gAAAA-very-secret-token' });
    const messages = lines().map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(messages).toEqual(['openstack request failed', 'openstack request retried', 'openstack request']);
    expect(lines().join('\n')).not.toContain('gAAAA-very-secret-token');
  });
});
