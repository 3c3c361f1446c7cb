import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDir } from './mini-openstack.js';

/**
 * What the API's configured credentials (the operator: Keystone admin on the local cloud) may do
 * for tenants, under Keystone Zed's default policies (scripts/openstack/README.md, "Keystone:
 * tenants and application credentials"). Issue 8's design rests on these facts.
 */
const stack = JSON.parse(readFileSync(join(runDir, 'stack.json'), 'utf8')) as {
  auth_url: string;
  admin: { user: string; password: string; project: string };
};
const ks = stack.auth_url.replace(/\/$/, '');

interface Answer {
  status: number;
  token?: string;
  body: Record<string, unknown>;
}

async function keystone(method: string, path: string, token?: string, body?: unknown): Promise<Answer> {
  const response = await fetch(`${ks}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token !== undefined && { 'x-auth-token': token }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  return {
    status: response.status,
    token: response.headers.get('x-subject-token') ?? undefined,
    body: (text ? JSON.parse(text) : {}) as Record<string, unknown>,
  };
}

const passwordAuth = (user: Record<string, unknown>, project: Record<string, unknown>) => ({
  auth: { identity: { methods: ['password'], password: { user } }, scope: { project } },
});
const appCredAuth = (id: string, secret: string) => ({
  auth: { identity: { methods: ['application_credential'], application_credential: { id, secret } } },
});

describe("Keystone's default policies for the operator and tenants' application credentials", () => {
  const suffix = randomBytes(3).toString('hex');
  const password = `pw-${randomBytes(12).toString('hex')}`;
  let admin: string;
  let projectId: string;
  let userId: string;
  let roles: Record<string, string>;
  let userToken: string;

  beforeAll(async () => {
    const auth = await keystone('POST', '/auth/tokens', undefined, passwordAuth(
      { name: stack.admin.user, domain: { id: 'default' }, password: stack.admin.password },
      { name: stack.admin.project, domain: { id: 'default' } },
    ));
    expect(auth.status).toBe(201);
    admin = auth.token ?? '';
    const list = (await keystone('GET', '/roles', admin)).body as { roles: { id: string; name: string }[] };
    roles = Object.fromEntries(list.roles.map((r) => [r.name, r.id]));
  });

  afterAll(async () => {
    if (userId) await keystone('DELETE', `/users/${userId}`, admin);
    if (projectId) await keystone('DELETE', `/projects/${projectId}`, admin);
  });

  it('lets the operator create a project, a user in it and role assignments', async () => {
    const project = await keystone('POST', '/projects', admin, { project: { name: `tenant-${suffix}`, domain_id: 'default' } });
    expect(project.status).toBe(201);
    projectId = (project.body['project'] as { id: string }).id;
    const user = await keystone('POST', '/users', admin, { user: { name: `tenant-${suffix}`, domain_id: 'default', password, default_project_id: projectId } });
    expect(user.status).toBe(201);
    userId = (user.body['user'] as { id: string }).id;
    for (const role of ['member', 'reader']) {
      expect((await keystone('PUT', `/projects/${projectId}/users/${userId}/roles/${roles[role]}`, admin)).status).toBe(204);
    }
  });

  it('refuses the operator an application credential for another user (403): only its owner may create one', async () => {
    const refused = await keystone('POST', `/users/${userId}/application_credentials`, admin, { application_credential: { name: 'by-operator' } });
    expect(refused.status).toBe(403);
  });

  it("lets the user create one, in its token's project and with only roles it holds there", async () => {
    const auth = await keystone('POST', '/auth/tokens', undefined, passwordAuth({ id: userId, password }, { id: projectId }));
    expect(auth.status).toBe(201);
    userToken = auth.token ?? '';
    const tooMuch = await keystone('POST', `/users/${userId}/application_credentials`, userToken, {
      application_credential: { name: 'k-admin', roles: [{ name: 'admin' }] },
    });
    expect(tooMuch.status).toBe(400);
    const made = await keystone('POST', `/users/${userId}/application_credentials`, userToken, {
      application_credential: { name: 'k-reader', roles: [{ name: 'reader' }] },
    });
    expect(made.status).toBe(201);
    const cred = made.body['application_credential'] as { id: string; secret: string; project_id: string; roles: { name: string }[] };
    expect(cred.project_id).toBe(projectId);
    expect(cred.roles.map((r) => r.name)).toEqual(['reader']);

    const token = await keystone('POST', '/auth/tokens', undefined, appCredAuth(cred.id, cred.secret));
    expect(token.status).toBe(201);
    const scoped = token.body['token'] as { project: { id: string }; roles: { name: string }[] };
    expect(scoped.project.id).toBe(projectId);
    expect(scoped.roles.map((r) => r.name)).toEqual(['reader']);
    // A token from an application credential may not make another one (not "unrestricted").
    const nested = await keystone('POST', `/users/${userId}/application_credentials`, token.token, { application_credential: { name: 'nested' } });
    expect(nested.status).toBe(403);

    // The operator may list and delete it; then it no longer authenticates, nor does its token.
    const listed = await keystone('GET', `/users/${userId}/application_credentials`, admin);
    expect(listed.status).toBe(200);
    expect((await keystone('DELETE', `/users/${userId}/application_credentials/${cred.id}`, admin)).status).toBe(204);
    expect((await keystone('POST', '/auth/tokens', undefined, appCredAuth(cred.id, cred.secret))).status).toBe(404);
    const check = await fetch(`${ks}/auth/tokens`, { headers: { 'x-auth-token': admin, 'x-subject-token': token.token ?? '' } });
    expect(check.status).toBe(404);
  });

  it('gives a new application credential only its own roles, and stops it at once when its role is taken from the user (401)', async () => {
    const made = await keystone('POST', `/users/${userId}/application_credentials`, userToken, {
      application_credential: { name: 'k-member', roles: [{ name: 'member' }] },
    });
    expect(made.status).toBe(201);
    const cred = made.body['application_credential'] as { id: string; secret: string };
    // Only its own role, none of the deleted credential's before it (SQLite reuses the deleted
    // one's internal id: without foreign keys on, its role rows stayed and this one inherited them).
    const before = await keystone('POST', '/auth/tokens', undefined, appCredAuth(cred.id, cred.secret));
    expect((before.body['token'] as { roles: { name: string }[] }).roles.map((r) => r.name)).toEqual(['member']);
    expect((await keystone('DELETE', `/projects/${projectId}/users/${userId}/roles/${roles['member']}`, admin)).status).toBe(204);
    expect((await keystone('POST', '/auth/tokens', undefined, appCredAuth(cred.id, cred.secret))).status).toBe(401);
  });
});
