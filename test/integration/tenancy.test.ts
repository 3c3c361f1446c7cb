import { SseClient } from '../support/sse-client.js';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient, type ProblemBody } from '../support/api-client.js';
import { startApp, type RunningApp } from '../support/memory-app.js';

const ADMIN = 'admin-key-0123456789abcdef0123456789abcdef';

let app: RunningApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

interface KeyBody {
  id: string;
  name: string;
  role: string;
  tenant: string;
  expires_at: string | null;
  secret?: string;
}
interface TenantBody {
  id: string;
  name: string;
  description: string;
  initial_key: KeyBody & { secret: string };
}

const as = (key: string) => ({ authorization: `Bearer ${key}` });

async function keysApp(env: Record<string, string> = {}): Promise<{ api: ApiClient; running: RunningApp }> {
  app = await startApp({ AUTH_MODE: 'keys', ADMIN_API_KEY: ADMIN, ...env });
  return { api: new ApiClient(app.baseUrl), running: app };
}

async function newTenant(api: ApiClient, name: string): Promise<TenantBody> {
  const created = await api.call<TenantBody>('POST', '/api/v1/tenants', { body: { name }, headers: as(ADMIN) });
  expect(created.status).toBe(201);
  return created.body;
}

describe('AUTH_MODE=keys: tenants and keys', () => {
  it('lets the admin create a tenant whose initial member key works at once, and shows its secret only then', async () => {
    const { api } = await keysApp();
    const tenant = await newTenant(api, 'team-a');
    expect(tenant.initial_key).toMatchObject({ role: 'member', tenant: tenant.id, expires_at: null });
    expect(tenant.initial_key.secret).toMatch(/^vmk_[A-Za-z0-9_-]{43}$/);
    const whoami = await api.call('GET', '/api/v1/whoami', { headers: as(tenant.initial_key.secret) });
    expect(whoami.body).toEqual({ tenant: tenant.id, key_id: tenant.initial_key.id, role: 'member' });
    const listed = await api.call<{ data: KeyBody[] }>('GET', '/api/v1/keys', { headers: as(tenant.initial_key.secret) });
    expect(listed.body.data.map((k) => k.id)).toEqual([tenant.initial_key.id]);
    expect(JSON.stringify(listed.body)).not.toContain(tenant.initial_key.secret);
    expect(listed.body.data[0]).not.toHaveProperty('secret');
  });

  it('answers 401 with WWW-Authenticate for no key, an unknown key, a revoked key and an expired key', async () => {
    const { api } = await keysApp();
    const noKey = await api.call<ProblemBody>('GET', '/api/v1/vms');
    expect([noKey.status, noKey.body.code, noKey.headers.get('www-authenticate')]).toEqual([401, 'UNAUTHENTICATED', 'Bearer']);
    const unknown = await api.call<ProblemBody>('GET', '/api/v1/vms', { headers: as('vmk_guessed') });
    expect([unknown.status, unknown.headers.get('www-authenticate')]).toEqual([401, 'Bearer error="invalid_token"']);

    const tenant = await newTenant(api, 'team-a');
    const member = tenant.initial_key.secret;
    const second = await api.call<KeyBody>('POST', '/api/v1/keys', { body: { name: 'ci', role: 'member' }, headers: as(member) });
    expect(second.status).toBe(201);
    expect((await api.call('GET', '/api/v1/vms', { headers: as(second.body.secret ?? '') })).status).toBe(200);
    expect((await api.call('DELETE', `/api/v1/keys/${second.body.id}`, { headers: as(member) })).status).toBe(200);
    const revoked = await api.call<ProblemBody>('GET', '/api/v1/vms', { headers: as(second.body.secret ?? '') });
    expect([revoked.status, revoked.body.code]).toEqual([401, 'UNAUTHENTICATED']);
    expect(revoked.headers.get('www-authenticate')).toContain('invalid_token');

    const soon = new Date(Date.now() + 300).toISOString();
    const shortLived = await api.call<KeyBody>('POST', '/api/v1/keys', { body: { name: 'brief', role: 'reader', expires_at: soon }, headers: as(member) });
    expect(shortLived.body.expires_at).toBe(soon);
    expect((await api.call('GET', '/api/v1/vms', { headers: as(shortLived.body.secret ?? '') })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect((await api.call('GET', '/api/v1/vms', { headers: as(shortLived.body.secret ?? '') })).status).toBe(401);
  });

  it('answers 403 FORBIDDEN to a role that may not: a reader changing, a member making tenants or an admin key', async () => {
    const { api } = await keysApp();
    const tenant = await newTenant(api, 'team-a');
    const member = tenant.initial_key.secret;
    const reader = (await api.call<KeyBody>('POST', '/api/v1/keys', { body: { name: 'ro', role: 'reader' }, headers: as(member) })).body.secret ?? '';
    const cases: [string, string, string, unknown][] = [
      [reader, 'POST', '/api/v1/vms', { name: 'web-1', flavor: 'm1.tiny', image: 'cirros-0.6' }],
      [reader, 'GET', '/api/v1/keys', undefined],
      [reader, 'POST', '/api/v1/keys', { name: 'x', role: 'reader' }],
      [member, 'POST', '/api/v1/tenants', { name: 'team-b' }],
      [member, 'POST', '/api/v1/keys', { name: 'up', role: 'admin' }],
      [member, 'DELETE', `/api/v1/tenants/${tenant.id}`, undefined],
    ];
    for (const [key, method, path, body] of cases) {
      const refused = await api.call<ProblemBody>(method, path, { headers: as(key), ...(body !== undefined && { body }) });
      expect([method, path, refused.status, refused.body.code]).toEqual([method, path, 403, 'FORBIDDEN']);
    }
    expect((await api.call('GET', '/api/v1/vms', { headers: as(reader) })).status).toBe(200);
    expect((await api.call('GET', '/api/v1/whoami', { headers: as(reader) })).body).toMatchObject({ role: 'reader' });
  });

  it('shows a member only its own tenant and keys: another tenant\'s answer exactly as an unknown id', async () => {
    const { api } = await keysApp();
    const a = await newTenant(api, 'team-a');
    const b = await newTenant(api, 'team-b');
    const memberA = as(a.initial_key.secret);
    expect((await api.call<{ data: { id: string }[] }>('GET', '/api/v1/tenants', { headers: memberA })).body.data.map((t) => t.id)).toEqual([a.id]);
    const foreign = await api.call<ProblemBody>('GET', `/api/v1/tenants/${b.id}`, { headers: memberA });
    const unknown = await api.call<ProblemBody>('GET', '/api/v1/tenants/no-such-tenant', { headers: memberA });
    expect([foreign.status, foreign.body.code]).toEqual([404, 'TENANT_NOT_FOUND']);
    expect([unknown.status, unknown.body.code]).toEqual([404, 'TENANT_NOT_FOUND']);
    const foreignKey = await api.call<ProblemBody>('DELETE', `/api/v1/keys/${b.initial_key.id}`, { headers: memberA });
    expect([foreignKey.status, foreignKey.body.code]).toEqual([404, 'KEY_NOT_FOUND']);
    const keyForB = await api.call<ProblemBody>('POST', '/api/v1/keys', { body: { name: 'x', role: 'member', tenant: b.id }, headers: memberA });
    expect([keyForB.status, keyForB.body.code]).toEqual([404, 'TENANT_NOT_FOUND']);
    // The admin sees both, and may make a key for either.
    const all = await api.call<{ data: { id: string }[] }>('GET', '/api/v1/tenants', { headers: as(ADMIN) });
    expect(all.body.data.map((t) => t.id)).toEqual(expect.arrayContaining([a.id, b.id]));
    const adminMade = await api.call<KeyBody>('POST', '/api/v1/keys', { body: { name: 'ops', role: 'reader', tenant: b.id }, headers: as(ADMIN) });
    expect([adminMade.status, adminMade.body.tenant]).toEqual([201, b.id]);
    const bKeys = await api.call<{ data: KeyBody[] }>(`GET`, `/api/v1/keys?tenant=${b.id}`, { headers: as(ADMIN) });
    expect(bKeys.body.data.map((k) => k.id).sort()).toEqual([b.initial_key.id, adminMade.body.id].sort());
  });

  it('refuses bad bodies with 400: a taken tenant name is 409, an expiry in the past and an unknown role 400', async () => {
    const { api } = await keysApp();
    const a = await newTenant(api, 'team-a');
    const again = await api.call<ProblemBody>('POST', '/api/v1/tenants', { body: { name: 'team-a' }, headers: as(ADMIN) });
    expect([again.status, again.body.code]).toEqual([409, 'TENANT_NAME_TAKEN']);
    const badName = await api.call<ProblemBody>('POST', '/api/v1/tenants', { body: { name: '-bad name' }, headers: as(ADMIN) });
    expect([badName.status, badName.body.errors?.[0]?.path]).toEqual([400, 'body.name']);
    const member = as(a.initial_key.secret);
    const past = await api.call<ProblemBody>('POST', '/api/v1/keys', { body: { name: 'x', role: 'member', expires_at: '2001-01-01T00:00:00Z' }, headers: member });
    expect([past.status, past.body.errors?.[0]?.path]).toEqual([400, 'body.expires_at']);
    const role = await api.call<ProblemBody>('POST', '/api/v1/keys', { body: { name: 'x', role: 'owner' }, headers: member });
    expect([role.status, role.body.errors?.[0]?.path]).toEqual([400, 'body.role']);
  });

  it('deletes an empty tenant and revokes its keys with it', async () => {
    const { api } = await keysApp();
    const a = await newTenant(api, 'team-a');
    const deleted = await api.call('DELETE', `/api/v1/tenants/${a.id}`, { headers: as(ADMIN) });
    expect([deleted.status, deleted.body.id]).toEqual([200, a.id]);
    expect((await api.call('GET', '/api/v1/whoami', { headers: as(a.initial_key.secret) })).status).toBe(401);
    expect((await api.call('GET', `/api/v1/tenants/${a.id}`, { headers: as(ADMIN) })).status).toBe(404);
  });

  it('keeps API_KEYS and API_READONLY_KEYS as member and reader keys of the default tenant', async () => {
    const { api } = await keysApp({ API_KEYS: 'static-member-key', API_READONLY_KEYS: 'static-reader-key' });
    expect((await api.call('GET', '/api/v1/whoami', { headers: as('static-member-key') })).body).toEqual({ tenant: 'default', key_id: 'api-keys-1', role: 'member' });
    expect((await api.call('GET', '/api/v1/whoami', { headers: { 'x-api-key': 'static-reader-key' } })).body).toEqual({ tenant: 'default', key_id: 'api-readonly-keys-1', role: 'reader' });
  });
});

describe('AUTH_MODE=none', () => {
  it('serves an anonymous caller as a member of the default tenant, and honours a known key sent anyway', async () => {
    app = await startApp({ ADMIN_API_KEY: ADMIN });
    const api = new ApiClient(app.baseUrl);
    expect((await api.call('GET', '/api/v1/whoami')).body).toEqual({ tenant: 'default', key_id: null, role: 'member' });
    expect((await api.call('GET', '/api/v1/whoami', { headers: as('not-a-key') })).body).toEqual({ tenant: 'default', key_id: null, role: 'member' });
    expect((await api.call('GET', '/api/v1/whoami', { headers: as(ADMIN) })).body).toEqual({ tenant: 'default', key_id: 'admin', role: 'admin' });
    expect((await api.call('POST', '/api/v1/tenants', { body: { name: 'team-a' } })).status).toBe(403);
  });
});

describe('audit', () => {
  it('writes one audit line per mutating call, refused ones included, and never a secret', async () => {
    const { api, running } = await keysApp();
    const tenant = await newTenant(api, 'team-a');
    const member = tenant.initial_key.secret;
    const vm = await api.call<{ id: string }>('POST', '/api/v1/vms', { body: { name: 'web-1', flavor: 'm1.tiny', image: 'cirros-0.6' }, headers: as(member) });
    const made = await api.call<KeyBody>('POST', '/api/v1/keys', { body: { name: 'ci', role: 'reader' }, headers: as(member) });
    await api.call('POST', '/api/v1/vms', { body: { name: 'web-2', flavor: 'm1.tiny', image: 'cirros-0.6' }, headers: as(made.body.secret ?? '') });
    await api.call('POST', '/api/v1/vms', { body: {}, headers: as('vmk_wrong') });
    await api.call('GET', '/api/v1/vms', { headers: as(member) });

    const lines = running.logs.filter((l) => l.event === 'audit');
    const byRequest = (code: number, route: string) => lines.filter((l) => l.outcome === code && l.route === route);
    expect(lines).toHaveLength(5);
    expect(byRequest(201, '/api/v1/tenants')[0]).toMatchObject({ tenant: 'default', key_id: 'admin', role: 'admin', method: 'POST', resource: tenant.id });
    expect(byRequest(201, '/api/v1/vms')[0]).toMatchObject({ tenant: tenant.id, key_id: tenant.initial_key.id, role: 'member', resource: vm.body.id });
    expect(byRequest(201, '/api/v1/keys')[0]).toMatchObject({ resource: made.body.id });
    expect(byRequest(403, '/api/v1/vms')[0]).toMatchObject({ key_id: made.body.id, role: 'reader' });
    expect(lines.find((l) => l.outcome === 401)).toMatchObject({ tenant: null, key_id: null, method: 'POST' });
    for (const line of lines) expect(typeof line.request_id).toBe('string');
    const log = running.rawLog();
    for (const secret of [ADMIN, member, made.body.secret ?? 'unset', 'vmk_wrong']) expect(log).not.toContain(secret);
  });
});

describe('rate limit per key', () => {
  it('counts each key apart, and callers without a key by address', async () => {
    const { api } = await keysApp({ RATE_LIMIT_PER_MINUTE: '2' });
    const a = await newTenant(api, 'team-a');
    const b = await newTenant(api, 'team-b');
    const statuses = async (key: string) => {
      const seen = [];
      for (let i = 0; i < 3; i++) seen.push((await api.call('GET', '/api/v1/whoami', { headers: as(key) })).status);
      return seen;
    };
    expect(await statuses(a.initial_key.secret)).toEqual([200, 200, 429]);
    expect(await statuses(b.initial_key.secret)).toEqual([200, 200, 429]);
    const limited = await api.call<ProblemBody>('GET', '/api/v1/whoami', { headers: as(a.initial_key.secret) });
    expect(limited.body.code).toBe('RATE_LIMITED');
    expect(limited.headers.get('ratelimit-policy')).toBeTruthy();
  });
});

describe('VMs per tenant', () => {
  const vm = (name: string, flavor = 'm1.tiny') => ({ name, flavor, image: 'cirros-0.6' });

  it('counts quotas per tenant: MOCK_QUOTA_* applies to each, and GET /quotas shows the caller\'s', async () => {
    const { api } = await keysApp({ MOCK_QUOTA_INSTANCES: '2', MOCK_QUOTA_VCPUS: '-1' });
    const a = as((await newTenant(api, 'team-a')).initial_key.secret);
    const b = as((await newTenant(api, 'team-b')).initial_key.secret);
    for (const name of ['a-1', 'a-2']) expect((await api.call('POST', '/api/v1/vms', { body: vm(name), headers: a })).status).toBe(201);
    const over = await api.call<ProblemBody>('POST', '/api/v1/vms', { body: vm('a-3'), headers: a });
    expect([over.status, over.body.code]).toEqual([403, 'QUOTA_EXCEEDED']);
    expect((await api.call('POST', '/api/v1/vms', { body: vm('b-1', 'm1.small'), headers: b })).status).toBe(201);
    expect((await api.call('GET', '/api/v1/quotas', { headers: a })).body).toEqual({
      instances: { limit: 2, used: 2 },
      vcpus: { limit: -1, used: 2 },
      ram_mb: { limit: 409600, used: 1024 },
      volumes: { limit: 10, used: 0 },
      gigabytes: { limit: 1000, used: 0 },
    });
    expect((await api.call('GET', '/api/v1/quotas', { headers: b })).body).toMatchObject({ instances: { limit: 2, used: 1 }, ram_mb: { used: 2048 } });
  });

  it('lets an admin see every tenant\'s VMs, or one tenant\'s with ?tenant=; a member naming another tenant lists nothing', async () => {
    const { api } = await keysApp();
    const ta = await newTenant(api, 'team-a');
    const tb = await newTenant(api, 'team-b');
    const a = await api.call<{ id: string; tenant: string }>('POST', '/api/v1/vms', { body: vm('a-1'), headers: as(ta.initial_key.secret) });
    const b = await api.call<{ id: string }>('POST', '/api/v1/vms', { body: vm('b-1'), headers: as(tb.initial_key.secret) });
    expect(a.body.tenant).toBe(ta.id);
    const ids = async (path: string, key: string) => (await api.call<{ data: { id: string }[] }>('GET', path, { headers: as(key) })).body.data.map((v) => v.id);
    expect(await ids('/api/v1/vms', ADMIN)).toEqual([a.body.id, b.body.id]);
    expect(await ids(`/api/v1/vms?tenant=${tb.id}`, ADMIN)).toEqual([b.body.id]);
    expect(await ids(`/api/v1/vms?tenant=${tb.id}`, ta.initial_key.secret)).toEqual([]);
    expect((await api.call('GET', `/api/v1/vms/${b.body.id}`, { headers: as(ADMIN) })).status).toBe(200);
  });

  it('refuses to delete a tenant that owns a VM with 409 TENANT_NOT_EMPTY, until the VM is forgotten', async () => {
    const { api } = await keysApp({ MOCK_DELETED_RETENTION_S: '0' });
    const t = await newTenant(api, 'team-a');
    const created = await api.call<{ id: string }>('POST', '/api/v1/vms', { body: vm('a-1'), headers: as(t.initial_key.secret) });
    const refused = await api.call<ProblemBody>('DELETE', `/api/v1/tenants/${t.id}`, { headers: as(ADMIN) });
    expect([refused.status, refused.body.code]).toEqual([409, 'TENANT_NOT_EMPTY']);
    expect((await api.call('DELETE', `/api/v1/vms/${created.body.id}`, { headers: as(t.initial_key.secret) })).status).toBe(200);
    expect((await api.call('DELETE', `/api/v1/tenants/${t.id}`, { headers: as(ADMIN) })).status).toBe(200);
  });
});

describe('deleting a tenant that holds networking or volumes', () => {
  it('refuses with 409 TENANT_NOT_EMPTY naming what it holds (a network, a floating IP, a volume, a group but its default) until each is gone', async () => {
    // A deleted volume counts until forgotten, as a deleted VM does: forgotten at once here.
    const { api } = await keysApp({ MOCK_DELETED_RETENTION_S: '0' });
    const t = await newTenant(api, 'team-a');
    const member = as(t.initial_key.secret);
    const make = async (path: string, body: unknown) => {
      const made = await api.call<{ id: string }>('POST', `/api/v1/${path}`, { body, headers: member });
      expect(made.status, JSON.stringify(made.body)).toBeLessThan(300);
      return `/api/v1/${path}/${made.body.id}`;
    };
    const refusal = async () => {
      const refused = await api.call<ProblemBody>('DELETE', `/api/v1/tenants/${t.id}`, { headers: as(ADMIN) });
      expect([refused.status, refused.body.code]).toEqual([409, 'TENANT_NOT_EMPTY']);
      return refused.body.detail;
    };
    // Its default group alone never holds a tenant back: listing the groups makes it.
    expect((await api.call<{ data: { name: string }[] }>('GET', '/api/v1/security-groups', { headers: member })).body.data.map((g) => g.name)).toEqual(['default']);
    const held = [
      await make('networks', { name: 'net-a', cidr: '10.20.0.0/24' }),
      await make('floating-ips', {}),
      await make('volumes', { name: 'vol-a', size_gb: 1 }),
      await make('security-groups', { name: 'web' }),
    ];
    expect(await refusal()).toBe('Tenant team-a still holds volumes, networks, floating IPs, security groups; delete them first');
    for (const [i, path] of held.entries()) {
      expect((await api.call('DELETE', path, { headers: member })).status).toBeLessThan(300);
      if (i < held.length - 1) expect(await refusal()).not.toContain(['networks', 'floating IPs', 'volumes', 'security groups'][i]);
    }
    expect((await api.call('DELETE', `/api/v1/tenants/${t.id}`, { headers: as(ADMIN) })).status).toBe(200);
  });
});

describe('events per tenant', () => {
  it('streams a tenant only its own VMs\' events, and an admin every tenant\'s', async () => {
    const { api, running } = await keysApp();
    const a = as((await newTenant(api, 'team-a')).initial_key.secret);
    const b = as((await newTenant(api, 'team-b')).initial_key.secret);
    const streams = await Promise.all([a, b, as(ADMIN)].map((headers) => SseClient.open(`${running.baseUrl}/api/v1/events`, headers)));
    try {
      const made = [];
      for (const headers of [a, b]) made.push((await api.call<{ id: string }>('POST', '/api/v1/vms', { body: { name: 'web-1', flavor: 'm1.tiny', image: 'cirros-0.6' }, headers })).body.id);
      const [forA, forB, forAdmin] = streams as [SseClient, SseClient, SseClient];
      const ids = (frames: { data: string }[]) => [...new Set(frames.map((f) => (JSON.parse(f.data) as { id: string }).id))];
      expect(ids(await forAdmin.untilEvents(4))).toEqual(made);
      expect(ids(await forA.untilEvents(2))).toEqual([made[0]]);
      expect(ids(await forB.untilEvents(2))).toEqual([made[1]]);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(forA.events.length).toBe(2);
    } finally {
      for (const stream of streams) stream.close();
    }
  });
});

describe('GET /vms/{id}/actions', () => {
  it('answers the VM\'s history newest first, with the request id and key of each action, and 404 to another tenant', async () => {
    const { api } = await keysApp({ MOCK_ACTION_DELAY_MS: '30' });
    const a = await newTenant(api, 'team-a');
    const b = await newTenant(api, 'team-b');
    const key = as(a.initial_key.secret);
    const created = await api.call<{ id: string }>('POST', '/api/v1/vms?wait=5', { body: { name: 'web-1', flavor: 'm1.tiny', image: 'cirros-0.6' }, headers: key });
    const started = await api.call('POST', `/api/v1/vms/${created.body.id}/start?wait=5`, { headers: key });
    const stopping = await api.call('POST', `/api/v1/vms/${created.body.id}/stop`, { headers: key });
    const deleted = await api.call('DELETE', `/api/v1/vms/${created.body.id}?wait=5`, { headers: key });
    const history = await api.call<{ data: Record<string, unknown>[] }>('GET', `/api/v1/vms/${created.body.id}/actions`, { headers: key });
    expect(history.status).toBe(200);
    expect(history.body.data.map((e) => [e.action, e.outcome])).toEqual([
      ['delete', 'success'],
      ['stop', 'cancelled'],
      ['start', 'success'],
      ['create', 'success'],
    ]);
    expect(history.body.data.map((e) => e.request_id)).toEqual([deleted, stopping, started, created].map((r) => r.headers.get('x-request-id')));
    for (const entry of history.body.data) {
      expect(entry.key_id).toBe(a.initial_key.id);
      expect(Date.parse(entry.finished_at as string)).toBeGreaterThanOrEqual(Date.parse(entry.started_at as string));
    }
    const foreign = await api.call<ProblemBody>('GET', `/api/v1/vms/${created.body.id}/actions`, { headers: as(b.initial_key.secret) });
    expect([foreign.status, foreign.body.code]).toEqual([404, 'VM_NOT_FOUND']);
  });

  it('shows a running task open, and a create no host could take as an error', async () => {
    const { api } = await keysApp({ MOCK_ACTION_DELAY_MS: '5000', MOCK_EXTRA_FLAVORS: 'huge:1:100000000:1', MOCK_QUOTA_RAM_MB: '-1' });
    const created = await api.call<{ id: string }>('POST', '/api/v1/vms', { body: { name: 'web-1', flavor: 'm1.tiny', image: 'cirros-0.6' }, headers: as(ADMIN) });
    const open = await api.call<{ data: Record<string, unknown>[] }>('GET', `/api/v1/vms/${created.body.id}/actions`, { headers: as(ADMIN) });
    expect(open.body.data).toEqual([expect.objectContaining({ action: 'create', key_id: 'admin', finished_at: null, outcome: null })]);
    const { api: sync } = await (async () => {
      await app?.close();
      return keysApp({ MOCK_EXTRA_FLAVORS: 'huge:1:100000000:1', MOCK_QUOTA_RAM_MB: '-1' });
    })();
    const failed = await sync.call<{ id: string; status: string }>('POST', '/api/v1/vms', { body: { name: 'big', flavor: 'huge', image: 'cirros-0.6' }, headers: as(ADMIN) });
    expect(failed.body.status).toBe('ERROR');
    const history = await sync.call<{ data: Record<string, unknown>[] }>('GET', `/api/v1/vms/${failed.body.id}/actions`, { headers: as(ADMIN) });
    expect(history.body.data).toEqual([expect.objectContaining({ action: 'create', outcome: 'error' })]);
  });
});
