import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection } from '../../src/openstack/index.js';
import { ApiClient } from '../support/api-client.js';
import { sharedApp } from '../support/redis-apps.js';
import { RedisServer } from '../support/redis-server.js';
import { startApp, type RunningApp } from '../support/memory-app.js';
import { operatorEnv, readStack } from './mini-openstack.js';

/**
 * Tenants in Keystone (OS_TENANTS=keystone, docs/contract.md section 8): a tenant is a project, a key
 * an application credential, and two API processes that share nothing but Keystone agree on both.
 */
const ADMIN = 'keystone-tenancy-admin-key-0123456789abcdef';
const RUN = Date.now().toString(36);

let first: RunningApp;
let second: RunningApp;
let keystone: Connection;
const made: string[] = [];

interface TenantAnswer {
  id: string;
  name: string;
  description: string;
  created_at: string;
  initial_key: { id: string; role: string; secret: string };
}

const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

beforeAll(async () => {
  const env = await operatorEnv({ AUTH_MODE: 'keys', ADMIN_API_KEY: ADMIN, OS_KEY_REVALIDATE_S: '2', LOG_LEVEL: 'info' });
  [first, second] = await Promise.all([startApp(env), startApp(env)]);
  const stack = readStack();
  keystone = new Connection({ auth: { type: 'password', authUrl: stack.auth_url, username: stack.admin.user, password: stack.admin.password, projectName: stack.admin.project }, timeoutMs: 60_000 });
}, 300_000);

afterAll(async () => {
  const admin = new ApiClient(first.baseUrl, bearer(ADMIN));
  for (const id of made) await admin.call('DELETE', `/api/v1/tenants/${id}`);
  await Promise.all([first?.close(), second?.close()]);
}, 300_000);

async function newTenant(name: string): Promise<{ tenant: Omit<TenantAnswer, 'initial_key'>; initial_key: TenantAnswer['initial_key'] }> {
  const created = await new ApiClient(first.baseUrl, bearer(ADMIN)).call<TenantAnswer>('POST', '/api/v1/tenants', { body: { name, description: `test ${name}` } });
  const failures = () => JSON.stringify(first.logs.filter((l) => l['event'] === 'openstack.call_failed').slice(-3));
  expect(created.status, failures()).toBe(201);
  const { initial_key, ...tenant } = created.body;
  made.push(tenant.id);
  return { tenant, initial_key };
}

describe('tenants and keys in Keystone', () => {
  // One tenant for most tests: every Keystone write costs a bcrypt on a loaded machine.
  let team: Awaited<ReturnType<typeof newTenant>>;

  it('makes a tenant a tagged Keystone project with a service user, and its key an application credential', async () => {
    team = await newTenant(`team-${RUN}`);
    const { tenant, initial_key } = team;
    expect(tenant).toMatchObject({ name: `team-${RUN}`, description: `test team-${RUN}` });

    const project = await keystone.identity.getProject(tenant.id);
    expect(project.tags).toContain('vmapi-tenant');
    const [user] = await keystone.identity.findUsers({ name: `vmapi-svc-${tenant.id}`, domainId: 'default' });
    expect(user).toBeDefined();
    const credentials = await keystone.identity.listApplicationCredentials(user!.id);
    expect(credentials.map((c) => c.id)).toEqual([initial_key.id]);
    expect(credentials[0]!.roles.map((r) => r.name)).toEqual(['member']);
    expect(credentials[0]!.project_id).toBe(tenant.id);
    expect(initial_key.secret).toMatch(new RegExp(`^vmk_${initial_key.id}\\.`));
  });

  it('lets another API process use the key: it shares nothing with the first but Keystone', async () => {
    const { tenant, initial_key } = team;
    const whoami = await new ApiClient(second.baseUrl, bearer(initial_key.secret)).call('GET', '/api/v1/whoami');
    expect(whoami.status).toBe(200);
    expect(whoami.body).toEqual({ tenant: tenant.id, key_id: initial_key.id, role: 'member' });
    const listed = await new ApiClient(second.baseUrl, bearer(ADMIN)).call<{ data: { id: string }[] }>('GET', '/api/v1/tenants');
    expect(listed.body.data.map((t) => t.id)).toEqual(expect.arrayContaining(['default', tenant.id]));
  });

  it('refuses a second tenant of the same name (409) and a key made up to look like ours (401)', async () => {
    const name = team.tenant.name;
    const again = await new ApiClient(second.baseUrl, bearer(ADMIN)).call('POST', '/api/v1/tenants', { body: { name } });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'TENANT_NAME_TAKEN' });
    for (const fake of [`vmk_${'0'.repeat(32)}.nope`, 'vmk_short.x', 'not-a-key']) {
      const refused = await new ApiClient(first.baseUrl, bearer(fake)).call('GET', '/api/v1/whoami');
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toContain('invalid_token');
    }
  });

  it('gives a reader key only reading, and refuses a wrong secret for a real key id', async () => {
    const member = new ApiClient(first.baseUrl, bearer(team.initial_key.secret));
    const made = await member.call<{ id: string; role: string; secret: string }>('POST', '/api/v1/keys', { body: { name: 'ci', role: 'reader' } });
    expect(made.status).toBe(201);
    const reader = new ApiClient(second.baseUrl, bearer(made.body.secret));
    const whoami = await reader.call('GET', '/api/v1/whoami');
    expect(whoami.body).toMatchObject({ key_id: made.body.id, role: 'reader' });
    const refused = await reader.call('POST', '/api/v1/keys', { body: { name: 'more', role: 'reader' } });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: 'FORBIDDEN' });
    const keys = await member.call<{ data: { id: string; name: string; role: string }[] }>('GET', '/api/v1/keys');
    expect(keys.body.data.map((k) => [k.name, k.role]).sort()).toEqual([['ci', 'reader'], ['initial', 'member']]);

    const wrong = `${made.body.secret.slice(0, made.body.secret.indexOf('.') + 1)}${'A'.repeat(43)}`;
    expect((await new ApiClient(first.baseUrl, bearer(wrong)).call('GET', '/api/v1/whoami')).status).toBe(401);
    // ... and the right one still works: a wrong guess evicts nothing.
    expect((await reader.call('GET', '/api/v1/whoami')).status).toBe(200);
  });

  it('revokes a key at once in the process that revoked it and within OS_KEY_REVALIDATE_S in another', async () => {
    const made = await new ApiClient(first.baseUrl, bearer(team.initial_key.secret)).call<{ id: string; secret: string }>('POST', '/api/v1/keys', { body: { name: 'to-revoke', role: 'member' } });
    expect(made.status).toBe(201);
    const onFirst = new ApiClient(first.baseUrl, bearer(made.body.secret));
    const onSecond = new ApiClient(second.baseUrl, bearer(made.body.secret));
    expect((await onFirst.call('GET', '/api/v1/whoami')).status).toBe(200);
    expect((await onSecond.call('GET', '/api/v1/whoami')).status).toBe(200);

    expect((await onFirst.call('DELETE', `/api/v1/keys/${made.body.id}`)).status).toBe(200);
    expect((await onFirst.call('GET', '/api/v1/whoami')).status).toBe(401);
    const deadline = Date.now() + 2_000 + 5_000;
    let status = 200;
    while (status === 200 && Date.now() < deadline) {
      status = (await onSecond.call('GET', '/api/v1/whoami')).status;
      if (status === 200) await sleep(250);
    }
    expect(status).toBe(401);
  });

  it('with REDIS_URL, refuses a key revoked through another process at once, long before its Keystone check is due', async () => {
    const redis = await RedisServer.start();
    // No OS_KEY_REVALIDATE_S: with Redis the Keystone check runs every 600 s, so only Redis can carry this revocation.
    const env = await operatorEnv({ AUTH_MODE: 'keys', ADMIN_API_KEY: ADMIN, REDIS_URL: redis.url });
    const [one, two] = await Promise.all([sharedApp(redis.url, env), sharedApp(redis.url, env)]);
    try {
      const made = await new ApiClient(one.url, bearer(team.initial_key.secret)).call<{ id: string; secret: string }>('POST', '/api/v1/keys', { body: { name: 'to-revoke-redis', role: 'member' } });
      expect(made.status).toBe(201);
      const onOne = new ApiClient(one.url, bearer(made.body.secret));
      const onTwo = new ApiClient(two.url, bearer(made.body.secret));
      expect((await onOne.call('GET', '/api/v1/whoami')).status).toBe(200);
      expect((await onTwo.call('GET', '/api/v1/whoami')).status).toBe(200);

      expect((await onOne.call('DELETE', `/api/v1/keys/${made.body.id}`)).status).toBe(200);
      await expect.poll(async () => (await onTwo.call('GET', '/api/v1/whoami')).status, { timeout: 5_000, interval: 100 }).toBe(401);
    } finally {
      await Promise.all([one.close(), two.close()]);
      await redis.stop();
    }
  }, 180_000);

  it('stops an expired key', async () => {
    const member = new ApiClient(first.baseUrl, bearer(team.initial_key.secret));
    // Making a key takes Keystone several bcrypt rounds: on a loaded machine 20 s and more.
    const expiresAt = new Date(Date.now() + 40_000).toISOString();
    const made = await member.call<{ secret: string; expires_at: string }>('POST', '/api/v1/keys', { body: { name: 'short', role: 'member', expires_at: expiresAt } });
    expect(made.status).toBe(201);
    expect(Date.parse(made.body.expires_at)).toBe(Date.parse(expiresAt));
    const short = new ApiClient(second.baseUrl, bearer(made.body.secret));
    expect((await short.call('GET', '/api/v1/whoami')).status).toBe(200);
    await sleep(Math.max(0, Date.parse(expiresAt) - Date.now()) + 1_000);
    expect((await short.call('GET', '/api/v1/whoami')).status).toBe(401);
  });

  it('deletes a tenant with its project, its user and so its keys, and the default security groups of the project', async () => {
    const { tenant, initial_key } = await newTenant(`gone-${RUN}`);
    // The tenant's first call to Neutron makes Neutron's `default` group in its project, and the
    // API's list makes the tenant's own `default` (Neutron's name for it: vmapi-default).
    expect((await new ApiClient(second.baseUrl, bearer(initial_key.secret)).call('GET', '/api/v1/security-groups')).status).toBe(200);
    const groups = await keystone.network.listSecurityGroups({ projectId: tenant.id });
    expect(groups.map((g) => g.name).sort()).toEqual(['default', 'vmapi-default']);
    const admin = new ApiClient(second.baseUrl, bearer(ADMIN));
    expect((await admin.call('DELETE', `/api/v1/tenants/${tenant.id}`)).status).toBe(200);
    // By id: a list filtered by the project would make Neutron's default again.
    for (const group of groups) await expect(keystone.network.getSecurityGroup(group.id)).rejects.toMatchObject({ status: 404 });
    expect((await admin.call('GET', `/api/v1/tenants/${tenant.id}`)).status).toBe(404);
    expect((await keystone.identity.findUsers({ name: `vmapi-svc-${tenant.id}`, domainId: 'default' })).length).toBe(0);
    expect((await new ApiClient(second.baseUrl, bearer(initial_key.secret)).call('GET', '/api/v1/whoami')).status).toBe(401);
  });

  it('writes no secret to any log line', () => {
    const logs = first.rawLog() + second.rawLog();
    expect(logs).not.toContain(ADMIN);
    expect(logs).not.toMatch(/vmk_[0-9a-f]{32}\./);
    expect(logs).not.toMatch(/"password"\s*:/);
  });
});
