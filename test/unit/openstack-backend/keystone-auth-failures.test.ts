import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryBackend } from '../../../src/backends/memory/memory-backend.js';
import { KeystoneTenantDirectory } from '../../../src/backends/openstack/keystone-tenant-directory.js';
import { Connection } from '../../../src/openstack/index.js';
import { ApiClient } from '../../support/api-client.js';
import { memoryLimits } from '../../support/memory-limits.js';
import { startApp, type RunningApp } from '../../support/memory-app.js';
import { FakeKeystone } from './fake-keystone.js';

/**
 * docs/contract.md section 8: with Keystone holding the keys, a key id with a wrong secret costs one
 * token request; the per-address budget of failures bounds how many a client can make Keystone do.
 */
let keystone: FakeKeystone;
let app: RunningApp | undefined;
const ADMIN = 'admin-key-0123456789abcdef0123456789abcdef';
const tokenRequests = () => keystone.count(/^POST \/v3\/auth\/tokens$/);

beforeEach(async () => {
  keystone = await new FakeKeystone().start();
});
afterEach(async () => {
  await app?.close();
  app = undefined;
  await keystone.close();
});

async function keystoneApp(env: Record<string, string>): Promise<{ api: ApiClient; secret: string; keyId: string }> {
  const operator = new Connection({ auth: { type: 'password', authUrl: keystone.url, username: 'admin', password: 'secret', projectName: 'operator' } });
  const tenants = new KeystoneTenantDirectory({ operator, log: pino({ level: 'silent' }), pause: () => Promise.resolve() });
  const tenant = await tenants.createTenant({ name: 'team-a', description: '' });
  const { key, secret } = await tenants.createKey({ tenant: tenant.id, name: 'ci', role: 'member' });
  app = await startApp({ AUTH_MODE: 'keys', ADMIN_API_KEY: ADMIN, ...env }, { ...createMemoryBackend(memoryLimits()), tenants });
  return { api: new ApiClient(app.baseUrl), secret, keyId: key.id };
}

describe('failed authentications against Keystone', () => {
  it('asks Keystone about a wrong secret only up to the budget, then refuses with 429 without asking', async () => {
    const { api, keyId } = await keystoneApp({ AUTH_FAILURES_PER_MINUTE: '3' });
    const before = tokenRequests();
    const statuses = [];
    for (let i = 0; i < 10; i++) {
      statuses.push((await api.call('GET', '/api/v1/whoami', { headers: { authorization: `Bearer vmk_${keyId}.wrong-${i}` } })).status);
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429, 429, 429, 429, 429]);
    expect(tokenRequests() - before).toBe(3);
  });

  it('without the budget, every wrong secret is one Keystone token request', async () => {
    const { api, keyId } = await keystoneApp({ AUTH_FAILURES_PER_MINUTE: '0' });
    const before = tokenRequests();
    for (let i = 0; i < 10; i++) {
      expect((await api.call('GET', '/api/v1/whoami', { headers: { authorization: `Bearer vmk_${keyId}.wrong-${i}` } })).status).toBe(401);
    }
    expect(tokenRequests() - before).toBe(10);
  });

  it('proves a good key once, however many calls it makes', async () => {
    const { api, secret } = await keystoneApp({});
    const before = keystone.seen.length;
    for (let i = 0; i < 20; i++) expect((await api.call('GET', '/api/v1/whoami', { headers: { authorization: `Bearer ${secret}` } })).status).toBe(200);
    expect(keystone.seen.slice(before).filter((line) => line === 'POST /v3/auth/tokens')).toHaveLength(1);
  });
});
