import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startRealServer, type RealServer } from '../support/real-server.js';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request through `agent` (a keep-alive agent reuses its socket unless told `Connection: close`). */
function send(agent: Agent, port: number, method: string, path: string, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers: payload ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const codeOf = (error: unknown) => (error as NodeJS.ErrnoException).code ?? String(error);

let server: RealServer | undefined;
const agents: Agent[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) agent.destroy();
  await server?.close();
  server = undefined;
});

describe('shutdown with keep-alive clients', () => {
  it('answers every request after SIGTERM with Connection: close, so no client that honours it is reset', async () => {
    server = await startRealServer({ MOCK_ACTION_DELAY_MS: '60000' });
    const port = server.port;
    const clients = Array.from({ length: 20 }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
    agents.push(...clients);
    // Each client has a connection open and a request waiting on it when the signal comes.
    await Promise.all(clients.map((agent) => send(agent, port, 'GET', '/healthz')));
    const waiting = clients.map((agent, i) => send(agent, port, 'POST', '/api/v1/vms?wait=60', { name: `w${i}`, flavor: 'm1.tiny', image: 'debian-12' }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stopped = server.close();

    // Each client sends its next request soon after the answer is in (0 to 95 ms: before, during
    // and after the server's sweeps of idle connections), as busy clients would.
    const outcomes = await Promise.all(
      waiting.map(async (answer, i) => {
        const first = await answer;
        await new Promise((resolve) => setTimeout(resolve, i * 5));
        const next = await send(clients[i] as Agent, port, 'GET', '/healthz').then(
          (a) => `answered ${a.status}`,
          (error: unknown) => codeOf(error),
        );
        return { status: first.status, connection: first.headers.connection, next };
      }),
    );
    await stopped;
    server = undefined;
    expect(outcomes.map((o) => o.status)).toEqual(Array(20).fill(202));
    expect(outcomes.map((o) => o.connection)).toEqual(Array(20).fill('close'));
    // Each client honoured the header and opened a new connection, which the closed listener
    // refused: none was reset, and none was served on a kept-alive socket of a stopping server.
    expect(outcomes.map((o) => o.next)).toEqual(Array(20).fill('ECONNREFUSED'));
  });
});

describe('many waiting requests', () => {
  it('print no MaxListenersExceededWarning however many wait on the shutdown signal', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    try {
      server = await startRealServer({ MOCK_ACTION_DELAY_MS: '60000' });
      const port = server.port;
      const agent = new Agent({ keepAlive: false });
      agents.push(agent);
      const waiting = Array.from({ length: 15 }, (_, i) => send(agent, port, 'POST', '/api/v1/vms?wait=60', { name: `m${i}`, flavor: 'm1.tiny', image: 'debian-12' }));
      await new Promise((resolve) => setTimeout(resolve, 500));
      await server.close();
      server = undefined;
      expect((await Promise.all(waiting)).map((a) => a.status)).toEqual(Array(15).fill(202));
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w.includes('MaxListeners'))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
