import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient, type ProblemBody } from '../support/api-client.js';
import { startApp, type RunningApp } from '../support/memory-app.js';

let app: RunningApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const vmBody = { name: 'web-1', flavor: 'm1.tiny', image: 'cirros-0.6' };

describe('API keys', () => {
  it('answers 401 UNAUTHENTICATED with WWW-Authenticate when a key is needed and missing', async () => {
    app = await startApp({ API_KEYS: 'sekret-full-key' });
    const response = await new ApiClient(app.baseUrl).call<ProblemBody>('GET', '/api/v1/vms');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    expect(response.body.code).toBe('UNAUTHENTICATED');
  });

  it('answers 401 for an unknown key, and serves a known one by Bearer or X-API-Key', async () => {
    app = await startApp({ API_KEYS: 'sekret-full-key' });
    const api = new ApiClient(app.baseUrl);
    expect((await api.call('GET', '/api/v1/vms', { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await api.call('GET', '/api/v1/vms', { headers: { authorization: 'Bearer sekret-full-key' } })).status).toBe(200);
    expect((await api.call('POST', '/api/v1/vms', { body: vmBody, headers: { 'x-api-key': 'sekret-full-key' } })).status).toBe(201);
  });

  it('serves a configured key that looks like a directory key (vmk_...), and the directory keys beside it', async () => {
    const admin = 'admin-key-0123456789abcdef0123456789abcdef';
    app = await startApp({ AUTH_MODE: 'keys', ADMIN_API_KEY: admin, API_KEYS: 'vmk_static-member-key' });
    const api = new ApiClient(app.baseUrl);
    expect((await api.call('GET', '/api/v1/whoami', { headers: { authorization: 'Bearer vmk_static-member-key' } })).body).toMatchObject({ key_id: 'api-keys-1', role: 'member' });
    const made = await api.call<{ secret: string; id: string }>('POST', '/api/v1/keys', { body: { name: 'ci', role: 'reader' }, headers: { authorization: `Bearer ${admin}` } });
    expect((await api.call('GET', '/api/v1/whoami', { headers: { authorization: `Bearer ${made.body.secret}` } })).body).toMatchObject({ key_id: made.body.id, role: 'reader' });
    expect((await api.call('GET', '/api/v1/whoami', { headers: { authorization: 'Bearer vmk_static-member-kez' } })).status).toBe(401);
  });

  it('lets a read-only key GET but answers 403 FORBIDDEN to a change', async () => {
    app = await startApp({ API_KEYS: 'sekret-full-key', API_READONLY_KEYS: 'reader-key' });
    const api = new ApiClient(app.baseUrl);
    const headers = { 'x-api-key': 'reader-key' };
    expect((await api.call('GET', '/api/v1/flavors', { headers })).status).toBe(200);
    const refused = await api.call<ProblemBody>('POST', '/api/v1/vms', { body: vmBody, headers });
    expect([refused.status, refused.body.code]).toEqual([403, 'FORBIDDEN']);
    expect((await api.call<{ data: unknown[] }>('GET', '/api/v1/vms', { headers })).body.data).toEqual([]);
  });

  it('never writes a presented key into the logs', async () => {
    app = await startApp({ API_KEYS: 'sekret-full-key' });
    const api = new ApiClient(app.baseUrl);
    await api.call('GET', '/api/v1/vms', { headers: { authorization: 'Bearer sekret-full-key' } });
    await api.call('GET', '/api/v1/vms', { headers: { 'x-api-key': 'sekret-full-key' } });
    await api.call('GET', '/api/v1/vms', { headers: { authorization: 'Bearer guessed-key' } });
    expect(app.logs.length).toBeGreaterThanOrEqual(3);
    expect(app.rawLog()).not.toMatch(/sekret-full-key|guessed-key/);
  });

  it('leaves the probes open when keys are on', async () => {
    app = await startApp({ API_KEYS: 'sekret-full-key' });
    expect((await new ApiClient(app.baseUrl).call('GET', '/healthz')).status).toBe(200);
  });
});

describe('rate limiting', () => {
  it('answers 429 RATE_LIMITED with Retry-After once a client is over its rate', async () => {
    app = await startApp({ RATE_LIMIT_PER_MINUTE: '3' });
    const api = new ApiClient(app.baseUrl);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await api.call('GET', '/api/v1/flavors')).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await api.call<ProblemBody>('GET', '/api/v1/flavors');
    expect(limited.body.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
  });
});

describe('behind a reverse proxy (TRUST_PROXY)', () => {
  const twoClients = async (running: RunningApp) => {
    const api = new ApiClient(running.baseUrl);
    const from = (address: string) => ({ headers: { 'x-forwarded-for': address } });
    const a = [];
    for (let i = 0; i < 3; i++) a.push((await api.call('GET', '/api/v1/flavors', from('203.0.113.7'))).status);
    const b = (await api.call('GET', '/api/v1/flavors', from('203.0.113.8'))).status;
    return { a, b };
  };

  it('gives each client named by X-Forwarded-For its own rate-limit bucket when the proxy is trusted', async () => {
    app = await startApp({ RATE_LIMIT_PER_MINUTE: '2', TRUST_PROXY: 'loopback' });
    expect(await twoClients(app)).toEqual({ a: [200, 200, 429], b: 200 });
  });

  it('ignores X-Forwarded-For by default: a client cannot pick its own bucket', async () => {
    app = await startApp({ RATE_LIMIT_PER_MINUTE: '2' });
    expect(await twoClients(app)).toEqual({ a: [200, 200, 429], b: 429 });
  });
});
