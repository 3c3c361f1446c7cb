import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeystoneTenantDirectory } from '../../../src/backends/openstack/keystone-tenant-directory.js';
import { isApiError } from '../../../src/domain/errors.js';
import { Connection } from '../../../src/openstack/index.js';
import { FakeKeystone } from './fake-keystone.js';

let keystone: FakeKeystone;
let clock: number;
let directory: KeystoneTenantDirectory;
const noPause = () => Promise.resolve();

const operator = () =>
  new Connection({ auth: { type: 'password', authUrl: keystone.url, username: 'admin', password: 'secret', projectName: 'operator' } });

beforeEach(async () => {
  keystone = await new FakeKeystone().start();
  clock = Date.parse('2026-12-02T10:00:00Z');
  directory = new KeystoneTenantDirectory({ operator: operator(), log: pino({ level: 'silent' }), revalidateMs: 60_000, now: () => clock, pause: noPause });
});
afterEach(() => keystone.close());

const codeOf = async (work: Promise<unknown>) => {
  try {
    await work;
    return 'no error';
  } catch (err) {
    return isApiError(err) ? err.code : String(err);
  }
};

describe('KeystoneTenantDirectory', () => {
  it('makes a tenant a tagged project with a service user holding every key role, and lists it after default', async () => {
    const tenant = await directory.createTenant({ name: 'team-a', description: 'Team A' });
    expect(tenant).toEqual({ id: expect.any(String), name: 'team-a', description: 'Team A', created_at: '2026-12-02T10:00:00.000Z' });
    expect(keystone.projects.get(tenant.id)?.tags).toEqual(['vmapi-tenant']);
    const user = [...keystone.users.values()].find((u) => u.name === `vmapi-svc-${tenant.id}`);
    const granted = [...(keystone.grants.get(`${tenant.id} ${user?.id}`) ?? [])].map((id) => keystone.roles.get(id)).sort();
    expect(granted).toEqual(['member', 'reader', 'vmapi-admin']);
    expect((await directory.listTenants()).map((t) => t.name)).toEqual(['default', 'team-a']);
    expect(await directory.getTenant(tenant.id)).toEqual(tenant);
    expect((await directory.getTenant('default'))?.name).toBe('default');
  });

  it('refuses a second tenant of one name, and "default", with TENANT_NAME_TAKEN', async () => {
    await directory.createTenant({ name: 'team-a', description: '' });
    expect(await codeOf(directory.createTenant({ name: 'team-a', description: '' }))).toBe('TENANT_NAME_TAKEN');
    expect(await codeOf(directory.createTenant({ name: 'default', description: '' }))).toBe('TENANT_NAME_TAKEN');
  });

  it('shows no project that is not a tenant of ours', async () => {
    expect(await directory.getTenant('p-operator')).toBeUndefined();
    expect(await directory.getTenant('nope')).toBeUndefined();
  });

  it('makes a key as the service user, leaves no known password behind, and proves it with one token', async () => {
    const tenant = await directory.createTenant({ name: 'team-a', description: '' });
    const user = [...keystone.users.values()].find((u) => u.name === `vmapi-svc-${tenant.id}`)!;
    const { key, secret } = await directory.createKey({ tenant: tenant.id, name: 'ci', role: 'reader', expiresAt: '2027-01-01T00:00:00.000Z' });
    expect(key).toEqual({ id: expect.stringMatching(/^[0-9a-f]{32}$/), name: 'ci', role: 'reader', tenant: tenant.id, created_at: '2026-12-02T10:00:00.000Z', expires_at: '2027-01-01T00:00:00.000Z' });
    expect(secret).toMatch(new RegExp(`^vmk_${key.id}\\.[A-Za-z0-9_-]{43}$`));
    expect(keystone.credentials.get(key.id)).toMatchObject({ userId: user.id, projectId: tenant.id, roles: ['reader'] });
    // The password the key was made with was replaced by one nobody was told.
    const login = await fetch(`${keystone.url}/auth/tokens`, {
      method: 'POST',
      body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { id: user.id, password: 'secret' } } }, scope: { project: { id: tenant.id } } } }),
    });
    expect(login.status).toBe(401);

    const tokensBefore = keystone.count(/^POST \/v3\/auth\/tokens$/);
    for (let i = 0; i < 50; i++) expect(await directory.authenticate(secret)).toEqual({ id: key.id, tenant: tenant.id, role: 'reader' });
    expect(keystone.count(/^POST \/v3\/auth\/tokens$/) - tokensBefore).toBe(1);
    // The token that proved the key is the one the tenant's calls go out with: scoped to its project.
    const own = directory.connectionOf(key.id);
    expect(own?.projectId).toBe(tenant.id);
    expect((await own?.authenticate())?.applicationCredentialId).toBe(key.id);
    expect(keystone.count(/^POST \/v3\/auth\/tokens$/) - tokensBefore).toBe(1);
    expect(await directory.getKey(key.id)).toEqual(key);
    expect(await directory.listKeys(tenant.id)).toEqual([key]);
  });

  it('gives keys of the default tenant to a service user on the operator project, logging in a second after the password change', async () => {
    // The real pause: Keystone refuses a token got in the second its user's password changed.
    directory = new KeystoneTenantDirectory({ operator: operator(), log: pino({ level: 'silent' }), now: () => clock });
    const started = Date.now();
    const { key, secret } = await directory.createKey({ tenant: 'default', name: 'ops', role: 'admin' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(key).toMatchObject({ tenant: 'default', role: 'admin' });
    expect(keystone.credentials.get(key.id)?.projectId).toBe('p-operator');
    expect(await directory.authenticate(secret)).toEqual({ id: key.id, tenant: 'default', role: 'admin' });
    expect((await directory.listKeys()).map((k) => k.id)).toEqual([key.id]);
  });

  it('refuses malformed, unknown and wrong secrets without evicting a proven key', async () => {
    const tenant = await directory.createTenant({ name: 'team-a', description: '' });
    const { key, secret } = await directory.createKey({ tenant: tenant.id, name: 'ci', role: 'member' });
    expect(await directory.authenticate(secret)).toBeDefined();
    for (const bad of ['plain', 'vmk_nodot', `vmk_${'0'.repeat(32)}.x`, `vmk_${key.id}.wrong`, `vmk_${key.id}.`]) {
      expect(await directory.authenticate(bad)).toBeUndefined();
    }
    const tokens = keystone.count(/^POST \/v3\/auth\/tokens$/);
    expect(await directory.authenticate(secret)).toBeDefined();
    expect(keystone.count(/^POST \/v3\/auth\/tokens$/)).toBe(tokens);
  });

  it("refuses a credential another user of the cloud made for itself, even on a tenant's project", async () => {
    const tenant = await directory.createTenant({ name: 'team-a', description: '' });
    keystone.credentials.set('f'.repeat(32), { id: 'f'.repeat(32), name: 'own', description: '', secret: 's3cret', userId: 'u-admin', projectId: tenant.id, roles: ['member'], expiresAt: null });
    expect(await directory.authenticate(`vmk_${'f'.repeat(32)}.s3cret`)).toBeUndefined();
  });

  it('proves a key in a process that never saw it with one Keystone request: the token names the service user', async () => {
    const tenant = await directory.createTenant({ name: 'team-a', description: '' });
    const { secret } = await directory.createKey({ tenant: tenant.id, name: 'ci', role: 'member' });
    const fresh = new KeystoneTenantDirectory({ operator: operator(), log: pino({ level: 'silent' }), now: () => clock, pause: noPause });
    const before = keystone.seen.length;
    expect(await fresh.authenticate(secret)).toEqual({ id: expect.any(String), tenant: tenant.id, role: 'member' });
    // The key's token, and the operator's own, once per process (its project is the default tenant's).
    expect(keystone.seen.slice(before)).toEqual(['POST /v3/auth/tokens', 'POST /v3/auth/tokens']);
    const afterFirst = keystone.seen.length;
    for (let i = 0; i < 10; i++) await fresh.authenticate(secret);
    expect(keystone.seen.length).toBe(afterFirst);
  });

  it('asks Keystone once per key for 1,000 authentications spread over 20 keys of 4 tenants (issue 8: <= 20)', async () => {
    const secrets: string[] = [];
    for (let t = 0; t < 4; t++) {
      const tenant = await directory.createTenant({ name: `team-${t}`, description: '' });
      for (let k = 0; k < 5; k++) secrets.push((await directory.createKey({ tenant: tenant.id, name: `k${k}`, role: 'member' })).secret);
    }
    const fresh = new KeystoneTenantDirectory({ operator: operator(), log: pino({ level: 'silent' }), now: () => clock, pause: noPause });
    const before = keystone.seen.length;
    for (let i = 0; i < 1_000; i++) expect(await fresh.authenticate(secrets[i % secrets.length] as string)).toBeDefined();
    const requests = keystone.seen.slice(before);
    // One token per key, and the operator's own once.
    expect(requests).toHaveLength(21);
    expect(new Set(requests)).toEqual(new Set(['POST /v3/auth/tokens']));

    // A minute on, every key is checked again: one list of credentials per tenant, shared by the
    // calls that arrive together, not one request per key or per call.
    clock += 61_000;
    const again = keystone.seen.length;
    const answers = await Promise.all(secrets.flatMap((secret) => [fresh.authenticate(secret), fresh.authenticate(secret)]));
    expect(answers.every((a) => a !== undefined)).toBe(true);
    const checks = keystone.seen.slice(again);
    expect(checks).toHaveLength(4);
    expect(checks.every((r) => /^GET \/v3\/users\/[^/]+\/application_credentials$/.test(r))).toBe(true);
    for (const secret of secrets) await fresh.authenticate(secret);
    expect(keystone.seen.length - again).toBe(4);
  });

  it('asks for the project and the user when the token does not name its user', async () => {
    const tenant = await directory.createTenant({ name: 'team-a', description: '' });
    const { secret } = await directory.createKey({ tenant: tenant.id, name: 'ci', role: 'member' });
    keystone.tokenUserNames = false;
    const fresh = new KeystoneTenantDirectory({ operator: operator(), log: pino({ level: 'silent' }), now: () => clock, pause: noPause });
    expect(await fresh.authenticate(secret)).toMatchObject({ tenant: tenant.id, role: 'member' });
    expect(keystone.count(new RegExp(`^GET /v3/projects/${tenant.id}$`))).toBeGreaterThan(0);
    expect(keystone.count(/^GET \/v3\/users$/)).toBeGreaterThan(0);
    // ...and still refuses another user's credential on the tenant's project.
    keystone.credentials.set('f'.repeat(32), { id: 'f'.repeat(32), name: 'own', description: '', secret: 's3cret', userId: 'u-admin', projectId: tenant.id, roles: ['member'], expiresAt: null });
    expect(await fresh.authenticate(`vmk_${'f'.repeat(32)}.s3cret`)).toBeUndefined();
  });

  it('revokes at once here, and another process sees it when it next revalidates', async () => {
    const tenant = await directory.createTenant({ name: 'team-a', description: '' });
    const { key, secret } = await directory.createKey({ tenant: tenant.id, name: 'ci', role: 'member' });
    const elsewhere = new KeystoneTenantDirectory({ operator: operator(), log: pino({ level: 'silent' }), revalidateMs: 60_000, now: () => clock, pause: noPause });
    expect(await elsewhere.authenticate(secret)).toBeDefined();
    expect(await directory.authenticate(secret)).toBeDefined();

    await directory.revokeKey(key.id);
    expect(directory.connectionOf(key.id)).toBeUndefined();
    expect(await directory.authenticate(secret)).toBeUndefined();
    expect(await directory.getKey(key.id)).toBeUndefined();
    clock += 59_000;
    expect(await elsewhere.authenticate(secret)).toBeDefined();
    clock += 2_000;
    expect(await elsewhere.authenticate(secret)).toBeUndefined();
    await directory.revokeKey(key.id);
  });

  it('proves a key again once its token ends, and refuses it when the credential has expired', async () => {
    const tenant = await directory.createTenant({ name: 'team-a', description: '' });
    const expiresAt = new Date(Date.now() + 400).toISOString();
    const { secret } = await directory.createKey({ tenant: tenant.id, name: 'short', role: 'member', expiresAt });
    expect(await directory.authenticate(secret)).toBeDefined();
    // The fake caps the token at the credential's end, as Keystone does; the directory's clock follows the real one here.
    clock = Date.now() + 1_000;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await directory.authenticate(secret)).toBeUndefined();
  });

  it('deletes a tenant with its user and so its keys', async () => {
    const tenant = await directory.createTenant({ name: 'team-a', description: '' });
    const { secret } = await directory.createKey({ tenant: tenant.id, name: 'ci', role: 'member' });
    expect(await directory.authenticate(secret)).toBeDefined();
    await directory.deleteTenant(tenant.id);
    expect(await directory.getTenant(tenant.id)).toBeUndefined();
    expect(keystone.credentials.size).toBe(0);
    expect(await directory.authenticate(secret)).toBeUndefined();
    await directory.deleteTenant(tenant.id);
    expect(await codeOf(directory.createKey({ tenant: tenant.id, name: 'x', role: 'member' }))).toBe('TENANT_NOT_FOUND');
  });

  it('says plainly when the operator is no Keystone admin, and answers 503 when Keystone fails', async () => {
    keystone.failWith = { pattern: /^POST \/v3\/projects$/, status: 403 };
    const refused = await directory.createTenant({ name: 'team-a', description: '' }).catch((err: unknown) => err);
    expect(isApiError(refused) && refused.code).toBe('BACKEND_UNAVAILABLE');
    expect(String((refused as Error).message)).toContain('OS_TENANTS=keystone needs an admin');
    keystone.failWith = { pattern: /^GET \/v3\/projects$/, status: 500 };
    expect(await codeOf(directory.listTenants())).toBe('BACKEND_UNAVAILABLE');
  });

  it('undoes the project when its service user cannot be made', async () => {
    keystone.failWith = { pattern: /^POST \/v3\/users$/, status: 500 };
    expect(await codeOf(directory.createTenant({ name: 'team-a', description: '' }))).toBe('BACKEND_UNAVAILABLE');
    keystone.failWith = undefined;
    expect([...keystone.projects.values()].map((p) => p.name)).toEqual(['operator']);
  });
});
