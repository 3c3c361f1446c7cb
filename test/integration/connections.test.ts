import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startRealServer, type RealServer } from '../support/real-server.js';

let server: RealServer | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await server?.close();
  server = undefined;
});

interface RawConnection {
  socket: Socket;
  /** Everything the server sent so far. */
  received(): string;
  /** Resolves with the milliseconds from `since` until the server closed the connection. */
  closed: Promise<number>;
}

async function open(port: number, since = () => performance.now()): Promise<RawConnection> {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (text += chunk));
  socket.on('error', () => undefined);
  const started = { at: since() };
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now() - started.at)));
  await new Promise((resolve) => socket.once('connect', resolve));
  started.at = performance.now();
  return { socket, received: () => text, closed };
}

const limits = { HTTP_HEADERS_TIMEOUT_MS: '600', HTTP_REQUEST_TIMEOUT_MS: '1200', HTTP_KEEP_ALIVE_TIMEOUT_MS: '400' };

describe('connection limits (raw sockets)', () => {
  it('cuts off a body shorter than its Content-Length at HTTP_REQUEST_TIMEOUT_MS with a 408', async () => {
    server = await startRealServer(limits);
    const conn = await open(server.port);
    conn.socket.write('POST /api/v1/vms HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name":');
    const after = await conn.closed;
    expect(after).toBeGreaterThan(1_100);
    expect(after).toBeLessThan(3_000);
    expect(conn.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(server.logs().find((l) => l.event === 'http.client_error')).toMatchObject({ code: 'ERR_HTTP_REQUEST_TIMEOUT' });
    await expect.poll(() => server?.logs().find((l) => l.route === '/api/v1/vms')).toMatchObject({ res: { status: 408 }, msg: 'request cut off by the server' });
  });

  it('cuts off headers trickled in a byte at a time at HTTP_HEADERS_TIMEOUT_MS', async () => {
    server = await startRealServer(limits);
    const conn = await open(server.port);
    const request = 'GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: ' + 'a'.repeat(200);
    let sent = 0;
    const trickle = setInterval(() => {
      if (!conn.socket.destroyed) conn.socket.write(request[sent++ % request.length] as string);
    }, 50);
    try {
      const after = await conn.closed;
      expect(after).toBeGreaterThan(500);
      expect(after).toBeLessThan(2_000);
    } finally {
      clearInterval(trickle);
    }
    expect(conn.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes a keep-alive connection idle for HTTP_KEEP_ALIVE_TIMEOUT_MS', async () => {
    server = await startRealServer(limits);
    const conn = await open(server.port);
    conn.socket.write('GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n');
    await expect.poll(() => conn.received()).toContain('{"status":"ok"}');
    const after = await conn.closed;
    expect(after).toBeGreaterThan(300);
    expect(after).toBeLessThan(2_000);
  });

  it('closes connections over HTTP_MAX_CONNECTIONS at once, and serves those within it', async () => {
    server = await startRealServer({ HTTP_MAX_CONNECTIONS: '3' });
    const within = await Promise.all([open(server.port), open(server.port), open(server.port)]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const over = await open(server.port);
    expect(await over.closed).toBeLessThan(500);
    expect(over.received()).toBe('');
    const first = within[0] as RawConnection;
    first.socket.write('GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n');
    await expect.poll(() => first.received()).toContain('{"status":"ok"}');
    await expect.poll(() => server?.logs().find((l) => l.event === 'server.connections_dropped'), { timeout: 3_000 }).toMatchObject({ count: 1, max: 3 });
  });

  it('answers what Node cannot parse as Node would (400, 431), logs it, and closes', async () => {
    server = await startRealServer();
    const garbled = await open(server.port);
    garbled.socket.write('NOT HTTP AT ALL\r\n\r\n');
    await garbled.closed;
    expect(garbled.received()).toMatch(/^HTTP\/1\.1 400 /);
    const huge = await open(server.port);
    huge.socket.write(`GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    await huge.closed;
    expect(huge.received()).toMatch(/^HTTP\/1\.1 431 /);
    const codes = server.logs().filter((l) => l.event === 'http.client_error').map((l) => l.code);
    expect(codes).toEqual(['HPE_INVALID_METHOD', 'HPE_HEADER_OVERFLOW']);
  });
});
