import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient, type ProblemBody } from '../support/api-client.js';
import { startApp, type RunningApp } from '../support/memory-app.js';

/** docs/contract.md section 8: a budget of failed authentications per client address. */
const ADMIN = 'admin-key-0123456789abcdef0123456789abcdef';
const as = (key: string, address?: string) => ({ authorization: `Bearer ${key}`, ...(address !== undefined && { 'x-forwarded-for': address }) });

let app: RunningApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function memberKey(api: ApiClient): Promise<string> {
  const created = await api.call<{ initial_key: { secret: string } }>('POST', '/api/v1/tenants', { body: { name: 'team-a' }, headers: as(ADMIN) });
  expect(created.status).toBe(201);
  return created.body.initial_key.secret;
}

describe('failed authentications per address (AUTH_FAILURES_PER_MINUTE)', () => {
  it('answers 401 for the first unknown keys, then 429 with Retry-After for any key the directory would be asked about', async () => {
    app = await startApp({ AUTH_MODE: 'keys', ADMIN_API_KEY: ADMIN, AUTH_FAILURES_PER_MINUTE: '3' });
    const api = new ApiClient(app.baseUrl);
    const member = await memberKey(api);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await api.call('GET', '/api/v1/whoami', { headers: as(`vmk_guess-${i}`) })).status);
    expect(statuses).toEqual([401, 401, 401, 429]);

    const refused = await api.call<ProblemBody>('GET', '/api/v1/whoami', { headers: as(member) });
    expect([refused.status, refused.body.code]).toEqual([429, 'RATE_LIMITED']);
    expect(refused.body.detail).toMatch(/failed authentications/);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    // The configured keys are checked first and cost no lookup: the operator is not locked out.
    expect((await api.call('GET', '/api/v1/whoami', { headers: as(ADMIN) })).status).toBe(200);
    // A call without a key asks no one: still the plain 401.
    expect((await api.call('GET', '/api/v1/whoami')).status).toBe(401);
  });

  it('counts only failures: a good key uses none of the budget', async () => {
    app = await startApp({ AUTH_MODE: 'keys', ADMIN_API_KEY: ADMIN, AUTH_FAILURES_PER_MINUTE: '2' });
    const api = new ApiClient(app.baseUrl);
    const member = await memberKey(api);
    for (let i = 0; i < 5; i++) expect((await api.call('GET', '/api/v1/whoami', { headers: as(member) })).status).toBe(200);
    expect((await api.call('GET', '/api/v1/whoami', { headers: as('vmk_guess') })).status).toBe(401);
    expect((await api.call('GET', '/api/v1/whoami', { headers: as(member) })).status).toBe(200);
    expect((await api.call('GET', '/api/v1/whoami', { headers: as('vmk_guess') })).status).toBe(401);
    expect((await api.call('GET', '/api/v1/whoami', { headers: as(member) })).status).toBe(429);
  });

  it('counts a revoked key as a failure', async () => {
    app = await startApp({ AUTH_MODE: 'keys', ADMIN_API_KEY: ADMIN, AUTH_FAILURES_PER_MINUTE: '1' });
    const api = new ApiClient(app.baseUrl);
    const made = await api.call<{ id: string; secret: string }>('POST', '/api/v1/keys', { body: { name: 'gone', role: 'reader' }, headers: as(ADMIN) });
    expect((await api.call('DELETE', `/api/v1/keys/${made.body.id}`, { headers: as(ADMIN) })).status).toBe(200);
    expect((await api.call('GET', '/api/v1/whoami', { headers: as(made.body.secret) })).status).toBe(401);
    expect((await api.call('GET', '/api/v1/whoami', { headers: as(made.body.secret) })).status).toBe(429);
  });

  it('keeps one budget per address: another client is not refused', async () => {
    app = await startApp({ AUTH_MODE: 'keys', ADMIN_API_KEY: ADMIN, AUTH_FAILURES_PER_MINUTE: '1', TRUST_PROXY: 'loopback' });
    const api = new ApiClient(app.baseUrl);
    const member = await memberKey(api);
    expect((await api.call('GET', '/api/v1/whoami', { headers: as('vmk_guess', '203.0.113.7') })).status).toBe(401);
    expect((await api.call('GET', '/api/v1/whoami', { headers: as(member, '203.0.113.7') })).status).toBe(429);
    expect((await api.call('GET', '/api/v1/whoami', { headers: as(member, '203.0.113.8') })).status).toBe(200);
  });

  it('counts an unknown key with AUTH_MODE=none too, where it is otherwise ignored', async () => {
    app = await startApp({ AUTH_FAILURES_PER_MINUTE: '2' });
    const api = new ApiClient(app.baseUrl);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await api.call('GET', '/api/v1/whoami', { headers: as('vmk_guess') })).status);
    expect(statuses).toEqual([200, 200, 429]);
    // Without a key the caller is the anonymous member, as ever.
    expect((await api.call('GET', '/api/v1/whoami')).status).toBe(200);
  });

  it('never refuses with AUTH_FAILURES_PER_MINUTE=0', async () => {
    app = await startApp({ AUTH_MODE: 'keys', ADMIN_API_KEY: ADMIN, AUTH_FAILURES_PER_MINUTE: '0' });
    const api = new ApiClient(app.baseUrl);
    const statuses = new Set<number>();
    for (let i = 0; i < 40; i++) statuses.add((await api.call('GET', '/api/v1/whoami', { headers: as('vmk_guess') })).status);
    expect([...statuses]).toEqual([401]);
  });

  it('is on by default, at 30 a minute', async () => {
    app = await startApp({ AUTH_MODE: 'keys', ADMIN_API_KEY: ADMIN });
    expect(app.config.AUTH_FAILURES_PER_MINUTE).toBe(30);
    const api = new ApiClient(app.baseUrl);
    const statuses = [];
    for (let i = 0; i < 31; i++) statuses.push((await api.call('GET', '/api/v1/whoami', { headers: as('vmk_guess') })).status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(30);
    expect(statuses.at(-1)).toBe(429);
  });
});
