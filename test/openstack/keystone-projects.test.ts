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

describe("a Keystone tenant's networks, groups, volumes and floating IPs are in its project too", () => {
  const made: { vm?: string; fip?: string; volume?: string; group?: string; network?: string } = {};

  afterAll(async () => {
    // Last made, first gone; each as the tenant itself, failures left to the next run's names.
    if (made.fip) await b.api.call('DELETE', `/api/v1/floating-ips/${made.fip}`);
    if (made.vm) await b.api.call('DELETE', `/api/v1/vms/${made.vm}?wait=60`);
    if (made.volume) await b.api.call('DELETE', `/api/v1/volumes/${made.volume}?wait=60`);
    if (made.group) await b.api.call('DELETE', `/api/v1/security-groups/${made.group}`);
    if (made.network) await b.api.call('DELETE', `/api/v1/networks/${made.network}`);
  }, 300_000);

  it('makes them with the tenant\'s token: Neutron and Cinder show them in its project, and the other tenant\'s token cannot see them', async () => {
    const ok = <T>(answer: { status: number; body: T }, ...statuses: number[]) => {
      expect(statuses, JSON.stringify(answer.body)).toContain(answer.status);
      return answer.body;
    };
    made.network = ok(await b.api.call<{ id: string }>('POST', '/api/v1/networks', { body: { name: `net-${RUN}`, cidr: '10.77.0.0/24' } }), 201).id;
    made.group = ok(await b.api.call<{ id: string }>('POST', '/api/v1/security-groups', { body: { name: `web-${RUN}` } }), 201).id;
    ok(await b.api.call('POST', `/api/v1/security-groups/${made.group}/rules`, { body: { direction: 'ingress', protocol: 'tcp', port_min: 22 } }), 201);
    made.volume = ok(await b.api.call<{ id: string }>('POST', '/api/v1/volumes?wait=60', { body: { name: `disk-${RUN}`, size_gb: 1 } }), 201).id;
    made.vm = ok(
      await b.api.call<{ id: string }>('POST', '/api/v1/vms?wait=60', {
        body: { name: `on-own-${RUN}`, flavor: 'm1.tiny', image: 'cirros-0.6', networks: [made.network], security_groups: [made.group] },
      }),
      201,
    ).id;
    ok(await b.api.call('POST', `/api/v1/vms/${made.vm}/volumes?wait=60`, { body: { volume: made.volume } }), 200);
    made.fip = ok(await b.api.call<{ id: string }>('POST', '/api/v1/floating-ips'), 201).id;
    ok(await b.api.call('POST', `/api/v1/floating-ips/${made.fip}/associate`, { body: { vm: made.vm } }), 200);

    expect((await b.nova.network.getNetwork(made.network)).project_id).toBe(b.id);
    const [group] = await b.nova.network.listSecurityGroups({ id: made.group });
    expect(group?.project_id).toBe(b.id);
    const ports = await b.nova.network.listDevicePorts(made.vm);
    expect(ports.flatMap((p) => p.security_groups)).toContain(made.group);
    expect((await b.nova.blockStorage.getVolume(made.volume)).attachments.map((at) => at.server_id)).toEqual([made.vm]);
    expect((await b.nova.network.getFloatingIp(made.fip)).port_id).toBe(ports[0]?.id);
    expect((await cloudAdmin.compute.getServer(made.vm)).tenant_id).toBe(b.id);

    expect(await statusOf(a.nova.network.getNetwork(made.network))).toBe(404);
    expect(await a.nova.network.listSecurityGroups({ id: made.group })).toEqual([]);
    expect(await statusOf(a.nova.blockStorage.getVolume(made.volume))).toBe(404);
    expect(await statusOf(a.nova.network.getFloatingIp(made.fip))).toBe(404);
  });
});
