import { memberScope, scopeOf } from '../../support/scopes.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOpenStackBackend } from '../../../src/backends/openstack/openstack-backend.js';
import type { OpenStackVmRepository } from '../../../src/backends/openstack/openstack-vm-repository.js';
import type { CommandGuard, VmRecord } from '../../../src/repository/vm-repository.js';
import type { Backend } from '../../../src/repository/backend.js';
import { waitFor } from '../../../src/shared/wait-for.js';
import { ApiError } from '../../../src/domain/errors.js';
import type { Flavor, Image, VmCommand } from '../../../src/domain/vm.js';
import { assertAllowed } from '../../../src/domain/transitions.js';
import { configFrom } from '../../support/memory-app.js';
import type { FakeCloud } from '../openstack/fake-cloud.js';
import { FakeOpenStack, fakeCloudEnv } from '../openstack/fake-openstack.js';
import { marks } from '../../../src/backends/openstack/marks.js';

const silent = pino({ level: 'silent' });
let fake: FakeOpenStack;
/** The fake's Nova servers, as the cloud holds them. */
const novaServers = () => (fake.cloud as FakeCloud).servers;
let backend: Backend;
let vms: OpenStackVmRepository;
let tiny: Flavor;
let small: Flavor;
let cirros: Image;

function env(extra: Record<string, string> = {}) {
  return configFrom(fakeCloudEnv(fake, { OS_TIMEOUT_MS: '2000', ...extra }));
}

/** A guard that checks the state machine as well, as a guard may (the repository applies it again either way). */
const guardFor =
  (command: VmCommand): CommandGuard =>
  (current) => {
    assertAllowed(current, command);
  };

const settled = async (id: string): Promise<VmRecord | undefined> =>
  waitFor(() => vms.get(memberScope, id), (r) => r === undefined || r.vm.task === null, { timeoutMs: 3000, intervalMs: 5 });

async function act(id: string, command: VmCommand): Promise<VmRecord | undefined> {
  await vms.apply({ ...memberScope, requestId: 'a5a1c0de-0000-4000-8000-000000000001' }, id, command, guardFor(command));
  return settled(id);
}

async function newVm(start: boolean, flavor = tiny): Promise<VmRecord> {
  const record = await vms.create(memberScope, { name: `vm-${Math.random().toString(36).slice(2, 8)}`, flavor, image: cirros, start });
  return (await settled(record.vm.id)) as VmRecord;
}

beforeEach(async () => {
  fake = await FakeOpenStack.start({ cloud: true });
  backend = await createOpenStackBackend(env(), silent);
  vms = backend.vms as OpenStackVmRepository;
  // Nothing shared between reads in these tests: each read goes to the fake.
  Object.assign(vms.tuning, { readReuseMs: 0, pollIntervalMs: 5 });
  tiny = (await backend.catalog.findFlavor('m1.tiny')) as Flavor;
  small = (await backend.catalog.findFlavor('2')) as Flavor;
  cirros = (await backend.catalog.findImage('cirros-0.6')) as Image;
});

afterEach(async () => {
  await backend.close();
  await fake.close();
});

describe('OpenStack backend: catalog, start-up and readiness', () => {
  it('lists flavors from Nova and active images from Glance, by name or id, and caches them', async () => {
    expect((await backend.catalog.listFlavors()).map((f) => f.name)).toContain('huge');
    expect(small).toMatchObject({ name: 'm1.small', vcpus: 1, ram_mb: 2048, disk_gb: 20 });
    expect((await backend.catalog.listImages()).map((i) => i.name)).toEqual(['cirros', 'cirros-0.6']);
    expect(await backend.catalog.findImage('e6aa3004-d4bc-4f41-8f53-1cfc9f850b94')).toMatchObject({ name: 'cirros' });
    expect(await backend.catalog.findFlavor('nope')).toBeUndefined();
    expect(fake.lines(/flavors\/detail/)).toHaveLength(1);
  });

  it('answers a catalog the cloud cannot give with BACKEND_UNAVAILABLE, not a bare error', async () => {
    const cold = await createOpenStackBackend(env(), silent);
    fake.fail(/flavors\/detail/, { status: 500, body: {} });
    fake.fail(/v2\/images/, 'destroy', 3);
    await expect(cold.catalog.listFlavors()).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', extras: { upstream: 'error' } });
    await expect(cold.catalog.findImage('cirros')).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', extras: { upstream: 'unreachable' } });
    expect(await cold.catalog.findFlavor('m1.tiny')).toMatchObject({ id: '1' });
    await cold.close();
  });

  it('is ready when Keystone gives a token and Nova answers, and says which one failed otherwise', async () => {
    expect(await backend.checkReady()).toEqual({
      ready: true,
      checks: [
        { name: 'keystone', ok: true, detail: 'token issued' },
        { name: 'nova', ok: true, detail: 'microversions 2.1 to 2.93' },
      ],
    });
    fake.fail(/^GET \/compute\/v2\.1\/$/, { status: 500, body: { computeFault: { message: 'secret upstream text' } } });
    const novaDown = await backend.checkReady();
    expect(novaDown.ready).toBe(false);
    expect(novaDown.checks[1]).toEqual({ name: 'nova', ok: false, detail: 'OpenStackHttpError 500' });
    fake.fail(/auth\/tokens/, { status: 401, body: { error: { message: 'bad password' } } }, 5);
    const fresh = await createOpenStackBackend(env(), silent);
    const keystoneDown = await fresh.checkReady();
    expect(keystoneDown.checks).toEqual([
      { name: 'keystone', ok: false, detail: 'OpenStackHttpError 401' },
      { name: 'nova', ok: false, detail: 'not checked: no token' },
    ]);
    await fresh.close();
  });

  it('refuses to start on a cloud older than the pinned microversion, or a pin older than it needs', async () => {
    await expect(createOpenStackBackend(env({ OS_COMPUTE_API_VERSION: '2.99' }), silent)).rejects.toThrow(/OS_COMPUTE_API_VERSION: .*2\.99.*2\.1 to 2\.93/);
    await expect(createOpenStackBackend(env({ OS_COMPUTE_API_VERSION: '2.40' }), silent)).rejects.toThrow(/older than 2\.52/);
  });

  it('starts while the cloud is unreachable, and reports it unready', async () => {
    const down = await createOpenStackBackend(env({ OS_AUTH_URL: 'http://127.0.0.1:9/v3', OS_TIMEOUT_MS: '200' }), silent);
    const readiness = await down.checkReady();
    expect(readiness.ready).toBe(false);
    expect(readiness.checks[0]?.detail).toMatch(/^OpenStackConnectionError/);
    await down.close();
  });

  it('reads OS_CLOUD from clouds.yaml, as the openstack CLI does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'osb-'));
    const file = join(dir, 'clouds.yaml');
    writeFileSync(file, `clouds:\n  fake:\n    auth:\n      auth_url: ${fake.authUrl}\n      username: demo\n      password: secret\n      project_name: demo\n    region_name: RegionOne\n`);
    const before = process.env['OS_CLIENT_CONFIG_FILE'];
    process.env['OS_CLIENT_CONFIG_FILE'] = file;
    try {
      const fromFile = await createOpenStackBackend(configFrom({ BACKEND: 'openstack', OS_CLOUD: 'fake' }), silent);
      expect((await fromFile.checkReady()).ready).toBe(true);
      await fromFile.close();
    } finally {
      if (before === undefined) delete process.env['OS_CLIENT_CONFIG_FILE'];
      else process.env['OS_CLIENT_CONFIG_FILE'] = before;
      rmSync(dir, { recursive: true });
    }
  });

  it('never writes the password or the token to its log, even at debug level', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logged = await createOpenStackBackend(env({ OS_PASSWORD: 'pa55-w0rd-xyz' }), pino({ level: 'debug' }, sink));
    const created = await logged.vms.create(memberScope, { name: 'log', flavor: tiny, image: cirros, start: false });
    await waitFor(() => logged.vms.get(memberScope, created.vm.id), (r) => r?.vm.task === null, { timeoutMs: 3000, intervalMs: 5 });
    fake.fail(/\/action$/, { status: 409, body: fixture409 });
    await logged.vms.apply(memberScope, created.vm.id, { action: 'start' }, () => undefined).catch(() => undefined);
    await logged.close();
    const text = lines.join('');
    expect(text).toContain('openstack.call_failed');
    expect(text).not.toContain('pa55-w0rd-xyz');
    expect(text).not.toMatch(/token-\d/);
  });

  it('authenticates with an application credential too', async () => {
    const appcred = await createOpenStackBackend(
      configFrom({ BACKEND: 'openstack', OS_AUTH_URL: fake.authUrl, OS_APPLICATION_CREDENTIAL_ID: 'id', OS_APPLICATION_CREDENTIAL_SECRET: 's' }),
      silent,
    );
    expect((await appcred.checkReady()).ready).toBe(true);
    const body = fake.seen.filter((s) => s.line.startsWith('POST /identity')).at(-1)?.body as { auth: { identity: { methods: string[] } } };
    expect(body.auth.identity.methods).toEqual(['application_credential']);
    await appcred.close();
  });
});

describe('OpenStack backend: creating', () => {
  it('creates a server on the named network, marked start=false, and reports it STOPPED creating until Nova has stopped it', async () => {
    const created = await vms.create({ ...memberScope, requestId: 'a5a1c0de-0000-4000-8000-000000000002' }, { name: 'web-1', flavor: tiny, image: cirros, start: false });
    expect(created.vm).toMatchObject({ name: 'web-1', status: 'STOPPED', task: 'creating', flavor: 'm1.tiny', image: 'cirros-0.6' });
    const post = fake.seen.find((s) => s.line === 'POST /compute/v2.1/servers');
    expect(post?.body).toMatchObject({ server: { networks: [{ uuid: '194c1421-e3d5-4e38-a239-2a76272164bf' }], tags: ['vmapi-tenant-default', marks.startFalse], flavorRef: '1' } });
    expect(post?.headers['x-openstack-request-id']).toBe('req-a5a1c0de-0000-4000-8000-000000000002');
    const vm = (await settled(created.vm.id))?.vm;
    expect(vm).toMatchObject({ status: 'STOPPED', task: null, ip_address: '10.0.0.229', fault: null });
    expect(fake.lines(/action$/)).toHaveLength(1);
    expect(novaServers().get(created.vm.id)).toMatchObject({ status: 'SHUTOFF', tags: ['vmapi-tenant-default'] });
  });

  it('creates a RUNNING VM when asked to start, with networks auto or none as configured', async () => {
    expect((await newVm(true)).vm).toMatchObject({ status: 'RUNNING', task: null });
    for (const network of ['auto', 'none', '194c1421-e3d5-4e38-a239-2a76272164bf']) {
      const other = await createOpenStackBackend(env({ OS_NETWORK: network }), silent);
      await other.vms.create(memberScope, { name: 'n', flavor: tiny, image: cirros, start: true });
      const body = fake.seen.filter((s) => s.line === 'POST /compute/v2.1/servers').at(-1)?.body as { server: { networks: unknown } };
      expect(body.server.networks).toEqual(network.length > 4 ? [{ uuid: network }] : network);
      await other.close();
    }
  });

  it('answers a network name the cloud does not have with BACKEND_UNAVAILABLE, and looks it up again next time', async () => {
    const other = await createOpenStackBackend(env({ OS_NETWORK: 'nowhere' }), silent);
    const attempt = other.vms.create(memberScope, { name: 'n', flavor: tiny, image: cirros, start: true });
    await expect(attempt).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', extras: { upstream: 'error' } });
    await expect(other.vms.create(memberScope, { name: 'n', flavor: tiny, image: cirros, start: true })).rejects.toThrow(ApiError);
    expect(fake.lines(/networks\?name=nowhere/)).toHaveLength(2);
    await other.close();
  });

  it('puts a VM no host can hold in ERROR with NO_VALID_HOST, never placed, and deletes it at once', async () => {
    const huge = (await backend.catalog.findFlavor('huge')) as Flavor;
    const vm = await newVm(false, huge);
    expect(vm).toMatchObject({ vm: { status: 'ERROR', task: null, fault: { code: 'NO_VALID_HOST' } }, placed: false });
    await expect(vms.apply(memberScope, vm.vm.id, { action: 'restart', type: 'hard' }, guardFor({ action: 'restart', type: 'hard' }))).rejects.toMatchObject({
      code: 'INVALID_STATE_TRANSITION',
    });
    const events: string[] = [];
    vms.onSettled((e) => events.push(`${e.task}:${e.vm.status}`));
    const deleted = await vms.apply(memberScope, vm.vm.id, { action: 'delete' }, guardFor({ action: 'delete' }));
    expect(deleted.vm).toMatchObject({ status: 'DELETED', task: null });
    expect((await vms.get(memberScope, vm.vm.id))?.vm.status).toBe('DELETED');
    expect(events).toEqual(['deleting:DELETED']);
  });

  it('refuses a create over the quota with QUOTA_EXCEEDED', async () => {
    const buster = (await backend.catalog.findFlavor('quota-buster')) as Flavor;
    await expect(vms.create(memberScope, { name: 'q', flavor: buster, image: cirros, start: false })).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });
  });

  it('maps a dropped connection and a 503 to BACKEND_UNAVAILABLE, unreachable and error', async () => {
    fake.fail(/^GET \/compute\/v2\.1\/servers\/detail/, 'destroy', 3);
    await expect(vms.list(memberScope, { statuses: ['RUNNING'], limit: 5 })).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', extras: { upstream: 'unreachable' } });
    const slow = await createOpenStackBackend(env({ OS_TIMEOUT_MS: '2000' }), silent);
    fake.fail(/^GET \/compute\/v2\.1\/servers\/detail/, { status: 503, body: {} }, 10);
    await expect(slow.vms.list(memberScope, { statuses: ['RUNNING'], limit: 5 })).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', extras: { upstream: 'error' } });
    await slow.close();
  });

  it('finds a server by its Idempotency-Key tag with the fingerprint it was created with', async () => {
    const created = await vms.create(memberScope, { name: 'i', flavor: tiny, image: cirros, start: true, idempotency: { key: 'k/1,2', fingerprint: 'fp' } });
    const found = await vms.findByIdempotencyKey(memberScope, 'k/1,2');
    expect(found).toMatchObject({ record: { vm: { id: created.vm.id } }, fingerprint: 'fp' });
    expect(await vms.findByIdempotencyKey(memberScope, 'other')).toBeUndefined();
  });
});

describe('OpenStack backend: actions', () => {
  it('drives a VM through the contract: start, restarts, pause, resume, suspend, resume, stop, resize (confirmed), delete', async () => {
    const vm = await newVm(false);
    const id = vm.vm.id;
    const events: string[] = [];
    vms.onSettled((e) => events.push(`${e.task}:${e.previous}->${e.vm.status}`));
    let version = vm.version;
    const steps: [VmCommand, string][] = [
      [{ action: 'start' }, 'RUNNING'],
      [{ action: 'restart', type: 'soft' }, 'RUNNING'],
      [{ action: 'restart', type: 'hard' }, 'RUNNING'],
      [{ action: 'pause' }, 'PAUSED'],
      [{ action: 'resume' }, 'RUNNING'],
      [{ action: 'suspend' }, 'SUSPENDED'],
      [{ action: 'resume' }, 'RUNNING'],
      [{ action: 'resize', flavor: small }, 'RUNNING'],
      [{ action: 'stop' }, 'STOPPED'],
      [{ action: 'resize', flavor: tiny }, 'STOPPED'],
    ];
    for (const [command, status] of steps) {
      const after = await act(id, command);
      expect({ action: command.action, status: after?.vm.status, task: after?.vm.task }).toEqual({ action: command.action, status, task: null });
      expect(after?.version).not.toBe(version);
      version = after?.version as string;
    }
    expect((await vms.get(memberScope, id))?.vm.flavor).toBe('m1.tiny');
    expect(fake.lines(/action$/).length).toBeGreaterThanOrEqual(steps.length + 2);
    const deleting = await vms.apply(memberScope, id, { action: 'delete' }, guardFor({ action: 'delete' }));
    expect(deleting.vm.task).toBe('deleting');
    const gone = await settled(id);
    expect(gone?.vm).toMatchObject({ status: 'DELETED', task: null });
    await waitFor(async () => events, (e) => e.some((x) => x.startsWith('deleting')), { timeoutMs: 2000, intervalMs: 5 });
    expect(events).toContain('resizing:RUNNING->RUNNING');
    expect(events).toContain('deleting:STOPPED->DELETED');
  });

  it('stops a PAUSED VM by unpausing it first, showing stopping throughout, and leaves no mark', async () => {
    const vm = await newVm(true);
    await act(vm.vm.id, { action: 'pause' });
    const accepted = await vms.apply(memberScope, vm.vm.id, { action: 'stop' }, guardFor({ action: 'stop' }));
    expect(accepted.vm).toMatchObject({ status: 'PAUSED', task: 'stopping' });
    const middle = await vms.get(memberScope, vm.vm.id); // ACTIVE with the mark: the stop goes out now
    expect(middle?.vm.task).toBe('stopping');
    expect((await settled(vm.vm.id))?.vm).toMatchObject({ status: 'STOPPED', task: null });
    expect(novaServers().get(vm.vm.id)?.tags).toEqual(['vmapi-tenant-default']);
  });

  it('takes the mark back when Nova refuses the unpause', async () => {
    const vm = await newVm(true);
    await act(vm.vm.id, { action: 'pause' });
    fake.fail(/\/action$/, { status: 409, body: { conflictingRequest: { message: "Cannot 'unpause' instance while it is in task_state pausing" } } });
    await expect(vms.apply(memberScope, vm.vm.id, { action: 'stop' }, guardFor({ action: 'stop' }))).rejects.toMatchObject({ code: 'TASK_IN_PROGRESS' });
    expect(novaServers().get(vm.vm.id)?.tags).toEqual(['vmapi-tenant-default']);
  });

  it('runs the guard on the fresh record and sends nothing when it refuses', async () => {
    const vm = await newVm(false);
    const before = fake.lines(/action$|metadata/).length;
    await expect(vms.apply(memberScope, vm.vm.id, { action: 'pause' }, guardFor({ action: 'pause' }))).rejects.toMatchObject({ code: 'INVALID_STATE_TRANSITION' });
    expect(fake.lines(/action$|metadata/).length).toBe(before);
    await expect(vms.apply(memberScope, '00000000-0000-4000-8000-00000000ffff', { action: 'start' }, () => undefined)).rejects.toMatchObject({ code: 'VM_NOT_FOUND' });
  });

  it('applies the state machine itself: a guard that lets everything through still gets the 409, and nothing is sent', async () => {
    const vm = await newVm(false);
    const before = fake.lines(/action$|metadata/).length;
    await expect(vms.apply(memberScope, vm.vm.id, { action: 'pause' }, () => undefined)).rejects.toMatchObject({
      code: 'INVALID_STATE_TRANSITION',
      extras: { current_status: 'STOPPED' },
    });
    expect(fake.lines(/action$|metadata/).length).toBe(before);
  });

  it('serializes racing commands on one VM: the second meets the first one task and is refused', async () => {
    const vm = await newVm(true);
    const results = await Promise.allSettled(
      (['stop', 'pause', 'suspend'] as const).map((action) => vms.apply(memberScope, vm.vm.id, { action }, guardFor({ action }))),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(['TASK_IN_PROGRESS', 'INVALID_STATE_TRANSITION']).toContain((r.reason as ApiError).code);
  });

  it('maps a 409 from Nova for a race with another process to TASK_IN_PROGRESS', async () => {
    const vm = await newVm(true);
    fake.fail(/\/action$/, { status: 409, body: fixture409 });
    await expect(vms.apply(memberScope, vm.vm.id, { action: 'stop' }, guardFor({ action: 'stop' }))).rejects.toMatchObject({ code: 'TASK_IN_PROGRESS' });
  });

  it('finishes a start=false create that another process began: a fresh backend reads, stops and clears the mark', async () => {
    const created = await vms.create(memberScope, { name: 'crash', flavor: tiny, image: cirros, start: false });
    await backend.close();
    backend = await createOpenStackBackend(env(), silent);
    vms = backend.vms as OpenStackVmRepository;
    Object.assign(vms.tuning, { readReuseMs: 0 });
    expect((await settled(created.vm.id))?.vm).toMatchObject({ status: 'STOPPED', task: null });
    expect(novaServers().get(created.vm.id)).toMatchObject({ status: 'SHUTOFF', tags: ['vmapi-tenant-default'] });
  });

  it('keeps showing creating when the mark cannot be cleared yet, and tolerates another process clearing it', async () => {
    fake.fail(/DELETE .*\/tags\//, { status: 500, body: {} }, 1000);
    const created = await vms.create(memberScope, { name: 'mark', flavor: tiny, image: cirros, start: false });
    await waitFor(() => vms.get(memberScope, created.vm.id), () => novaServers().get(created.vm.id)?.status === 'SHUTOFF', { timeoutMs: 2000, intervalMs: 5 });
    expect((await vms.get(memberScope, created.vm.id))?.vm).toMatchObject({ status: 'STOPPED', task: 'creating' });
    fake.clearFaults();
    fake.fail(/DELETE .*\/tags\//, { status: 404, body: {} });
    expect((await vms.get(memberScope, created.vm.id))?.vm).toMatchObject({ status: 'STOPPED', task: null });
  });
});

const fixture409 = { conflictingRequest: { code: 409, message: "Cannot 'stop' instance x while it is in task_state powering-off" } };

describe('OpenStack backend: reading and listing', () => {
  it("shows the device of each attached volume on a VM's read (one Nova call, only with volumes), not in lists", async () => {
    const bare = await newVm(false);
    const vm = await newVm(false);
    const attachmentsPath = `/compute/v2.1/servers/${vm.vm.id}/os-volume_attachments`;
    (novaServers().get(vm.vm.id) as Record<string, unknown>)['os-extended-volumes:volumes_attached'] = [{ id: 'vol-1' }, { id: 'vol-2' }];
    fake.route('GET', attachmentsPath, {
      status: 200,
      body: { volumeAttachments: [{ id: 'vol-1', volumeId: 'vol-1', serverId: vm.vm.id, device: '/dev/vdb' }, { id: 'vol-2', volumeId: 'vol-2', serverId: vm.vm.id, device: null }] },
    });
    expect((await vms.get(memberScope, vm.vm.id))?.vm.volumes).toEqual([{ id: 'vol-1', device: '/dev/vdb' }, { id: 'vol-2', device: null }]);
    expect(fake.requests('GET', attachmentsPath)).toHaveLength(1);
    const listed = await vms.list(memberScope, { statuses: ['STOPPED'], limit: 10 });
    expect(listed.items.find((r) => r.vm.id === vm.vm.id)?.vm.volumes).toEqual([{ id: 'vol-1', device: null }, { id: 'vol-2', device: null }]);
    expect(fake.requests('GET', attachmentsPath)).toHaveLength(1);
    await vms.get(memberScope, bare.vm.id);
    expect(fake.lines(/os-volume_attachments/)).toHaveLength(1);
    // Nova failing that call still answers the VM, without devices.
    fake.fail(new RegExp(`^GET ${attachmentsPath}$`), { status: 500, body: { computeFault: { code: 500, message: 'boom' } } }, 1);
    expect((await vms.get(memberScope, vm.vm.id))?.vm.volumes).toEqual([{ id: 'vol-1', device: null }, { id: 'vol-2', device: null }]);
  });

  it('answers a server Nova never had with undefined, and a deleted one as DELETED (remembered)', async () => {
    expect(await vms.get(memberScope, '00000000-0000-4000-8000-00000000ffff')).toBeUndefined();
    const vm = await newVm(true);
    await act(vm.vm.id, { action: 'delete' });
    expect((await vms.get(memberScope, vm.vm.id))?.vm.status).toBe('DELETED');
    await new Promise((resolve) => setTimeout(resolve, 100)); // the delete's watcher is done
    const lookups = fake.lines(/changes-since/).length;
    expect((await vms.get(memberScope, vm.vm.id))?.vm.status).toBe('DELETED');
    expect(fake.lines(/changes-since/).length).toBe(lookups);
  });

  it("asks again when Nova answers 404 for a server this process just made (Nova's bury-in-cell0 moment), and not for an older one", async () => {
    const vm = await newVm(false);
    const serverPath = new RegExp(`^GET /compute/v2\\.1/servers/${vm.vm.id}$`);
    const notFound = { status: 404, body: { itemNotFound: { code: 404, message: `Instance ${vm.vm.id} could not be found.` } } };
    fake.fail(serverPath, notFound, 2);
    expect((await vms.get(memberScope, vm.vm.id))?.vm.id).toBe(vm.vm.id);
    expect(fake.lines(serverPath).length).toBeGreaterThanOrEqual(3);

    vms.tuning.youngServerMs = 0;
    const older = await newVm(false);
    fake.fail(new RegExp(`^GET /compute/v2\\.1/servers/${older.vm.id}$`), notFound, 1);
    expect(await vms.get(memberScope, older.vm.id)).toBeUndefined();
  });

  it('pages oldest first with an opaque cursor, filters by name and status, and lists deleted VMs only when asked', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await newVm(i % 2 === 0)).vm.id);
    await newVm(true).then((v) => act(v.vm.id, { action: 'delete' }));
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await vms.list(memberScope, { statuses: ['RUNNING', 'STOPPED'], limit: 2, name: { value: 'vm-', prefix: true }, ...(cursor && { cursor }) });
      seen.push(...page.items.map((r) => r.vm.id));
      cursor = page.nextCursor ?? undefined;
      pages += 1;
    } while (cursor);
    expect(seen).toEqual(ids);
    expect(pages).toBe(3);
    expect(fake.lines(/servers\/detail\?.*sort_key=created_at&sort_dir=asc/).length).toBeGreaterThanOrEqual(3);
    const running = await vms.list(memberScope, { statuses: ['RUNNING'], limit: 50 });
    expect(running.items.map((r) => r.vm.status)).toEqual(['RUNNING', 'RUNNING', 'RUNNING']);
    const deleted = await vms.list(memberScope, { statuses: ['DELETED'], limit: 50 });
    expect(deleted.items.map((r) => r.vm.status)).toEqual(['DELETED']);
    const exact = await vms.list(memberScope, { statuses: ['RUNNING', 'STOPPED'], limit: 50, name: { value: 'nope.', prefix: false } });
    expect(exact).toEqual({ items: [], nextCursor: null });
  });

  it('lists live VMs first, then deleted ones, when both are asked for', async () => {
    await newVm(true);
    await newVm(true).then((v) => act(v.vm.id, { action: 'delete' }));
    const first = await vms.list(memberScope, { statuses: ['RUNNING', 'DELETED'], limit: 10 });
    expect(first.items.map((r) => r.vm.status)).toEqual(['RUNNING']);
    expect(first.nextCursor).not.toBeNull();
    const second = await vms.list(memberScope, { statuses: ['RUNNING', 'DELETED'], limit: 10, cursor: first.nextCursor as string });
    expect(second).toMatchObject({ items: [{ vm: { status: 'DELETED' } }], nextCursor: null });
    await expect(vms.list(memberScope, { statuses: ['RUNNING'], limit: 10, cursor: first.nextCursor as string })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
  });

  it('counts live VMs by status for the gauge, and reuses the counts for a few seconds', async () => {
    await newVm(true);
    await newVm(false);
    const counts = await vms.countByStatus();
    expect(counts).toMatchObject({ RUNNING: 1, STOPPED: 1, DELETED: 0, ERROR: 0 });
    await vms.countByStatus();
    expect(fake.lines(/servers\/detail$/)).toHaveLength(1);
  });

  it('forgets a failed count instead of serving it again', async () => {
    fake.fail(/servers\/detail/, { status: 500, body: {} });
    await expect(vms.countByStatus()).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    await expect(vms.countByStatus()).resolves.toMatchObject({ RUNNING: 0 });
  });

  it('shares back-to-back reads of one VM within the reuse window', async () => {
    const vm = await newVm(true);
    await new Promise((resolve) => setTimeout(resolve, 30)); // the create's watcher is done
    Object.assign(vms.tuning, { readReuseMs: 10_000 });
    const before = fake.lines(/servers\/0/).length;
    await Promise.all([vms.get(memberScope, vm.vm.id), vms.get(memberScope, vm.vm.id)]);
    await vms.get(memberScope, vm.vm.id);
    expect(fake.lines(/servers\/0/).length).toBe(before + 1);
  });
});

describe('OpenStack backend: tenants (tagged servers until tenants are Keystone projects)', () => {
  const teamA = scopeOf('5b0e6c1a-33f4-4d7e-9b1c-2f8a7e6d4c10');
  const teamB = scopeOf('7c1f7d2b-44a5-4e8f-8c2d-3a9b8f7e5d21');

  it('tags a tenant\'s server, and answers another tenant as if it did not exist: get, apply, lists, idempotency keys', async () => {
    const created = await vms.create(teamA, { name: 'a-1', flavor: tiny, image: cirros, start: true, idempotency: { key: 'k', fingerprint: 'f' } });
    expect(created.vm.tenant).toBe(teamA.tenant);
    expect(novaServers().get(created.vm.id)?.tags).toContain(`vmapi-tenant-${teamA.tenant}`);
    expect(await vms.get(teamB, created.vm.id)).toBeUndefined();
    expect((await vms.get(scopeOf('default', 'admin'), created.vm.id))?.vm.tenant).toBe(teamA.tenant);
    const refused = vms.apply(teamB, created.vm.id, { action: 'delete' }, () => undefined);
    await expect(refused).rejects.toMatchObject({ code: 'VM_NOT_FOUND' });
    const mine = await vms.create(memberScope, { name: 'default-1', flavor: tiny, image: cirros, start: true });
    const list = async (scope: typeof teamA, tenant?: string) =>
      (await vms.list(scope, { statuses: ['STOPPED', 'RUNNING'], limit: 10, ...(tenant !== undefined && { tenant }) })).items.map((r) => r.vm.id);
    expect(await list(teamA)).toEqual([created.vm.id]);
    expect(await list(teamB)).toEqual([]);
    expect(await list(memberScope)).toEqual([mine.vm.id]);
    expect(await list(scopeOf('default', 'admin'))).toEqual([created.vm.id, mine.vm.id]);
    expect(await list(scopeOf('default', 'admin'), teamA.tenant)).toEqual([created.vm.id]);
    expect(await vms.findByIdempotencyKey(teamB, 'k')).toBeUndefined();
    expect((await vms.findByIdempotencyKey(teamA, 'k'))?.record.vm.id).toBe(created.vm.id);
    expect(await vms.tenantOwnsVms(teamA.tenant)).toBe(true);
    expect(await vms.tenantOwnsVms(teamB.tenant)).toBe(false);
  });

  it('reads quotas from Nova\'s limits', async () => {
    fake.route('GET', '/compute/v2.1/limits', {
      status: 200,
      body: { limits: { rate: [], absolute: { maxTotalInstances: 10, totalInstancesUsed: 2, maxTotalCores: 20, totalCoresUsed: 3, maxTotalRAMSize: -1, totalRAMUsed: 1024 } } },
    });
    expect(await vms.quotaUsage(teamA)).toEqual({
      instances: { limit: 10, used: 2 },
      vcpus: { limit: 20, used: 3 },
      ram_mb: { limit: -1, used: 1024 },
    });
  });
});

describe('OpenStack backend: action history', () => {
  it('maps Nova\'s instance actions, newest first, leaving out Nova\'s own; the newest is open while the VM has a task', async () => {
    const vm = await newVm(true);
    fake.route('GET', `/compute/v2.1/servers/${vm.vm.id}/os-instance-actions`, {
      status: 200,
      body: {
        instanceActions: [
          { action: 'reboot', request_id: 'req-3', start_time: '2026-03-01T12:00:03.000000', updated_time: '2026-03-01T12:00:04.000000', message: null },
          { action: 'confirmResize', request_id: 'req-2', start_time: '2026-03-01T12:00:02.000000', message: null },
          { action: 'unpause', request_id: 'req-1', start_time: '2026-03-01T12:00:01.000000', updated_time: '2026-03-01T12:00:01.500000', message: 'Error' },
        ],
      },
    });
    expect(await vms.listActions(memberScope, vm.vm.id)).toEqual([
      { action: 'restart', request_id: 'req-3', key_id: null, started_at: '2026-03-01T12:00:03.000Z', finished_at: '2026-03-01T12:00:04.000Z', outcome: 'success' },
      { action: 'resume', request_id: 'req-1', key_id: null, started_at: '2026-03-01T12:00:01.000Z', finished_at: '2026-03-01T12:00:01.500Z', outcome: 'error' },
    ]);
    expect(await vms.listActions(scopeOf('7c1f7d2b-44a5-4e8f-8c2d-3a9b8f7e5d21'), vm.vm.id)).toBeUndefined();
  });
});
