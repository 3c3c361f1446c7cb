import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection, OpenStackHttpError } from '../../src/openstack/index.js';
import { ApiClient } from '../support/api-client.js';
import { startApp, type RunningApp } from '../support/memory-app.js';
import { operatorEnv, readStack } from './mini-openstack.js';

/**
 * Cross-check through Keystone and Nova (docs/contract.md section 8): with tenants in Keystone, each
 * tenant's servers are in its own project, made with its key's token, so Nova's own isolation holds
 * beside the API's, a deleted VM still finds its tenant, and `GET /quotas` is the project's own.
 */
const ADMIN = 'keystone-projects-admin-key-0123456789abcdef';
const RUN = Date.now().toString(36);

let app: RunningApp;
let cloudAdmin: Connection;
const made: string[] = [];

interface Team {
  id: string;
  api: ApiClient;
  /** Nova as the tenant's own key: an application credential scoped to its project. */
  nova: Connection;
}

const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

async function newTeam(name: string): Promise<Team> {
  const created = await new ApiClient(app.baseUrl, bearer(ADMIN)).call<{ id: string; initial_key: { id: string; secret: string } }>('POST', '/api/v1/tenants', {
    body: { name },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  made.push(created.body.id);
  const { id: keyId, secret } = created.body.initial_key;
  const nova = cloudAdmin.as({ applicationCredentialId: keyId, secret: secret.slice(secret.indexOf('.') + 1) });
  return { id: created.body.id, api: new ApiClient(app.baseUrl, bearer(secret)), nova };
}

async function newVm(team: Team, name: string): Promise<string> {
  const created = await team.api.call<{ id: string; tenant: string }>('POST', '/api/v1/vms?wait=60', { body: { name, flavor: 'm1.tiny', image: 'cirros-0.6' } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  expect(created.body.tenant).toBe(team.id);
  return created.body.id;
}

const statusOf = async (work: Promise<unknown>) =>
  work.then(
    () => 200,
    (err: unknown) => (err instanceof OpenStackHttpError ? err.status : String(err)),
  );

let a: Team;
let b: Team;
let vmA: string;
let vmB: string;

beforeAll(async () => {
  app = await startApp(await operatorEnv({ AUTH_MODE: 'keys', ADMIN_API_KEY: ADMIN }));
  const stack = readStack();
  cloudAdmin = new Connection({
    auth: { type: 'password', authUrl: stack.auth_url, username: stack.admin.user, password: stack.admin.password, projectName: stack.admin.project },
    regionName: stack.region,
    timeoutMs: 60_000,
  });
  [a, b] = await Promise.all([newTeam(`proj-a-${RUN}`), newTeam(`proj-b-${RUN}`)]);
  [vmA, vmB] = await Promise.all([newVm(a, `proj-a-${RUN}`), newVm(b, `proj-b-${RUN}`)]);
}, 600_000);

afterAll(async () => {
  const admin = new ApiClient(app.baseUrl, bearer(ADMIN));
  for (const id of [vmA, vmB]) if (id) await admin.call('DELETE', `/api/v1/vms/${id}?wait=60`);
  for (const id of made) await admin.call('DELETE', `/api/v1/tenants/${id}`);
  await app?.close();
}, 300_000);

describe("each Keystone tenant's servers are in its own project", () => {
  it('Nova puts each server in its tenant\'s project, a tagged Keystone project', async () => {
    for (const [team, vm] of [[a, vmA], [b, vmB]] as const) {
      const server = await cloudAdmin.compute.getServer(vm);
      expect(server.tenant_id).toBe(team.id);
      expect((await cloudAdmin.identity.getProject(team.id)).tags).toContain('vmapi-tenant');
    }
  });

  it("holds Nova's own isolation: a tenant's token lists its servers and cannot read the other's", async () => {
    const listed = await a.nova.compute.listAllServers({});
    expect(listed.map((s) => s.id)).toContain(vmA);
    expect(listed.map((s) => s.id)).not.toContain(vmB);
    expect(await statusOf(a.nova.compute.getServer(vmB))).toBe(404);
    expect(await statusOf(b.nova.compute.getServer(vmA))).toBe(404);
  });

  it("answers GET /quotas from the tenant's own project", async () => {
    const limits = await a.nova.compute.getLimits();
    const quotas = await a.api.call<{ instances: { limit: number; used: number } }>('GET', '/api/v1/quotas');
    expect(quotas.status).toBe(200);
    expect(quotas.body.instances).toEqual({ limit: limits.maxTotalInstances, used: limits.totalInstancesUsed });
    expect(quotas.body.instances.used).toBe(1);
  });

  it('keeps a deleted VM its tenant\'s: listed under ?status=DELETED for it, not for the other', async () => {
    const deleted = await a.api.call<{ status: string }>('DELETE', `/api/v1/vms/${vmA}?wait=60`);
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
    expect(deleted.body.status).toBe('DELETED');
    const own = await a.api.call<{ data: { id: string; tenant: string }[] }>('GET', '/api/v1/vms?status=DELETED&limit=100');
    expect(own.body.data.find((v) => v.id === vmA)).toMatchObject({ tenant: a.id });
    const other = await b.api.call<{ data: { id: string }[] }>('GET', '/api/v1/vms?status=DELETED&limit=100');
    expect(other.body.data.map((v) => v.id)).not.toContain(vmA);
    expect((await b.api.call('GET', `/api/v1/vms/${vmA}`)).status).toBe(404);
    expect((await a.api.call<{ status: string }>('GET', `/api/v1/vms/${vmA}`)).body.status).toBe('DELETED');
  });
});
