import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../support/api-client.js';
import { startApp, type RunningApp } from '../support/memory-app.js';

let app: RunningApp;
let api: ApiClient;
beforeAll(async () => {
  app = await startApp();
  api = new ApiClient(app.baseUrl);
});
afterAll(() => app.close());

const completions = () => app.logs.filter((l) => l.msg === 'request completed' || l.msg === 'request errored');

describe('request ids', () => {
  it('echoes a well-formed X-Request-Id and puts it in the problem body and the log line', async () => {
    const response = await api.call('GET', '/api/v1/vms/not-a-uuid', { headers: { 'x-request-id': 'trace-abc.123' } });
    expect(response.headers.get('x-request-id')).toBe('trace-abc.123');
    expect(response.body).toMatchObject({ request_id: 'trace-abc.123' });
    expect(completions().find((l) => l.request_id === 'trace-abc.123')).toMatchObject({ res: { status: 400 } });
  });

  it('makes up an id when none, or a malformed one, is given', async () => {
    const none = await api.call('GET', '/healthz');
    expect(none.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const hostile = await api.call('GET', '/healthz', { headers: { 'x-request-id': 'x'.repeat(300) } });
    expect(hostile.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('request log', () => {
  it('writes one JSON line per request with method, route template, status, duration and request id', async () => {
    const before = completions().length;
    const vm = (await api.createVm({ name: 'logged', flavor: 'm1.tiny', image: 'debian-12' })).body;
    await api.getVm(vm.id);
    const lines = completions().slice(before);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ req: { method: 'GET' }, route: '/api/v1/vms/{id}', res: { status: 200 }, request_id: expect.any(String) });
    expect(lines[1]?.duration_ms).toEqual(expect.any(Number));
  });

  it('logs domain events with the VM id and its previous and new status', async () => {
    const vm = (await api.createVm({ name: 'evented', flavor: 'm1.tiny', image: 'debian-12' })).body;
    await api.act(vm.id, 'start');
    const started = app.logs.find((l) => l.event === 'vm.settled' && l.vm_id === vm.id && l.msg === 'VM started');
    expect(started).toMatchObject({ previous_status: 'STOPPED', status: 'RUNNING', task: 'starting' });
    expect(app.logs.find((l) => l.event === 'vm.action_accepted' && l.vm_id === vm.id)).toMatchObject({ action: 'start' });
  });
});

describe('what the request log holds of the URL', () => {
  it('logs the route template and redacts secret query parameters, whatever the status', async () => {
    await api.call('GET', '/api/v1/vms?api_key=SEKRIT-1&limit=2&access_token=SEKRIT-2', { headers: { 'x-request-id': 'secret-query' } });
    await api.call('GET', '/healthz?password=SEKRIT-3&Client_Secret=SEKRIT-4&key', { headers: { 'x-request-id': 'secret-probe' } });
    await api.call('GET', '/api/v1/vms?%74oken=SEKRIT-5', { headers: { 'x-request-id': 'secret-encoded' } });
    expect(app.rawLog()).not.toMatch(/SEKRIT/);
    const line = (id: string) => app.logs.find((l) => l.request_id === id);
    expect(line('secret-query')).toMatchObject({
      route: '/api/v1/vms',
      req: { url: '/api/v1/vms?api_key=[REDACTED]&limit=2&access_token=[REDACTED]' },
    });
    expect(line('secret-probe')).toMatchObject({ route: '/healthz', req: { url: '/healthz?password=[REDACTED]&Client_Secret=[REDACTED]&key=[REDACTED]' } });
    expect(line('secret-encoded')).toMatchObject({ req: { url: '/api/v1/vms?%74oken=[REDACTED]' } });
  });

  it('cuts a very long URL', async () => {
    await api.call('GET', `/api/v1/vms?status=${'STOPPED,'.repeat(500)}STOPPED`, { headers: { 'x-request-id': 'long-url' } });
    const url = (app.logs.find((l) => l.request_id === 'long-url')?.req as { url: string }).url;
    expect(url.length).toBeLessThanOrEqual(515);
    expect(url.endsWith('...')).toBe(true);
  });
});

describe('aborted requests', () => {
  it('logs a client that hangs up in the middle of its body as 499 at once, not as a 400', async () => {
    const { port } = new URL(app.baseUrl);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      'POST /api/v1/vms HTTP/1.1\r\nHost: t\r\nX-Request-Id: hung-up\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name":',
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.destroy();
    await expect.poll(() => app.logs.find((l) => l.request_id === 'hung-up'), { timeout: 1_000 }).toMatchObject({
      res: { status: 499 },
      msg: 'request aborted by the client',
    });
  });


  it('logs a request the client gave up on as aborted, with status 499', async () => {
    const slow = await startApp({ MOCK_ACTION_DELAY_MS: '60000' });
    try {
      const client = new AbortController();
      const request = fetch(`${slow.baseUrl}/api/v1/vms?wait=60`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': 'gave-up' },
        body: JSON.stringify({ name: 'impatient', flavor: 'm1.tiny', image: 'debian-12' }),
        signal: client.signal,
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      client.abort();
      await expect(request).rejects.toThrow();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(slow.logs.find((l) => l.request_id === 'gave-up' && l.msg === 'request aborted by the client')).toMatchObject({ res: { status: 499 } });
    } finally {
      await slow.close();
    }
  });
});
