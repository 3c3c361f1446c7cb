import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OpenStackVolumeRepository } from '../../../src/backends/openstack/openstack-volume-repository.js';
import { ApiError } from '../../../src/domain/errors.js';
import type { Scope } from '../../../src/domain/tenancy.js';
import { Connection } from '../../../src/openstack/connection.js';
import { capturingLogger, FakeOpenStack, type SeenRequest } from '../openstack/fake-openstack.js';

const BASE = '/volume/v3/p1';
const scopeA: Scope = { tenant: 'tenant-a', keyId: null, role: 'member', requestId: 'r1' };
const scopeB: Scope = { tenant: 'tenant-b', keyId: null, role: 'member', requestId: 'r2' };

interface FakeVolume {
  id: string;
  name: string;
  description: string | null;
  size: number;
  status: string;
  attachments: { server_id: string; device: string }[];
  metadata: Record<string, string>;
  created_at: string;
  updated_at: string | null;
}

let fake: FakeOpenStack;
let repo: OpenStackVolumeRepository;
let connection: Connection;
let volumes: Map<string, FakeVolume>;
let counter: number;

/** A small Cinder behind the fake's routes: volumes by id, metadata filters, marker paging. */
function cinderRoutes(): void {
  fake.route('GET', '/volume/v3/', { status: 200, body: { versions: [{ id: 'v3.0', version: '3.70', min_version: '3.0' }] } });
  fake.route('GET', `${BASE}/limits`, () => ({
    status: 200,
    body: { limits: { absolute: { maxTotalVolumes: 10, totalVolumesUsed: volumes.size, maxTotalVolumeGigabytes: 1000, totalGigabytesUsed: 3 } } },
  }));
  fake.route('POST', `${BASE}/volumes`, (req) => {
    const body = (req.body as { volume: { name: string; description: string; size: number; metadata: Record<string, string> } }).volume;
    const id = `00000000-0000-4000-8000-${String(++counter).padStart(12, '0')}`;
    const volume: FakeVolume = { ...body, id, status: 'available', attachments: [], created_at: `2026-11-23T19:0${counter}:00.000000`, updated_at: null };
    volumes.set(id, volume);
    routesFor(id);
    return { status: 202, body: { volume } };
  });
  fake.route('GET', `${BASE}/volumes/detail`, (req) => {
    const metadata = JSON.parse(req.query.get('metadata') ?? '{}') as Record<string, string>;
    const name = req.query.get('name');
    let list = [...volumes.values()].filter((v) => Object.entries(metadata).every(([k, value]) => v.metadata[k] === value) && (name === null || v.name === name));
    const marker = req.query.get('marker');
    if (marker) list = list.slice(list.findIndex((v) => v.id === marker) + 1);
    return { status: 200, body: { volumes: list.slice(0, Number(req.query.get('limit') ?? 1000)) } };
  });
}

function routesFor(id: string): void {
  const volume = () => volumes.get(id);
  fake.route('GET', `${BASE}/volumes/${id}`, () => (volume() ? { status: 200, body: { volume: volume() } } : { status: 404, body: { itemNotFound: { message: 'gone' } } }));
  fake.route('PUT', `${BASE}/volumes/${id}`, (req) => {
    Object.assign(volume() as FakeVolume, (req.body as { volume: object }).volume, { updated_at: '2026-11-23T20:00:00.000000' });
    return { status: 200, body: { volume: volume() } };
  });
  fake.route('DELETE', `${BASE}/volumes/${id}`, () => {
    volumes.delete(id);
    return { status: 202 };
  });
  fake.route('POST', `${BASE}/volumes/${id}/action`, (req) => {
    const size = (req.body as { 'os-extend': { new_size: number } })['os-extend'].new_size;
    (volume() as FakeVolume).size = size;
    return { status: 202 };
  });
  fake.route('POST', `/compute/v2.1/servers/s1/os-volume_attachments`, (req) => {
    const volumeId = (req.body as { volumeAttachment: { volumeId: string } }).volumeAttachment.volumeId;
    Object.assign(volumes.get(volumeId) as FakeVolume, { status: 'attaching', attachments: [{ server_id: 's1', device: '/dev/vdb' }] });
    return { status: 200, body: { volumeAttachment: { volumeId } } };
  });
  fake.route('DELETE', `/compute/v2.1/servers/s1/os-volume_attachments/${id}`, () => {
    Object.assign(volume() as FakeVolume, { status: 'detaching' });
    return { status: 202 };
  });
}

beforeEach(async () => {
  fake = await FakeOpenStack.start();
  fake.catalog.push({ type: 'block-storage', name: 'cinder', endpoints: [{ interface: 'public', region_id: 'RegionOne', region: 'RegionOne', url: `${fake.url}${BASE}` }] });
  volumes = new Map();
  counter = 0;
  cinderRoutes();
  connection = new Connection({
    auth: { type: 'password', authUrl: fake.authUrl, username: 'demo', password: 'secret', projectName: 'demo' },
    timeoutMs: 2_000,
    backoffBaseMs: 5,
    maxAttempts: 1,
  });
  repo = new OpenStackVolumeRepository({ connectionFor: () => connection, log: capturingLogger().logger, pollIntervalMs: 5 });
});

afterEach(async () => {
  repo.close();
  await fake.close();
});

const none = () => undefined;
const header = (req: SeenRequest | undefined) => req?.headers['openstack-api-version'];

describe('OpenStack volumes through Cinder', () => {
  it('negotiates the microversion and sends it as "volume 3.x"', async () => {
    expect(await connection.blockStorage.negotiate()).toBe('3.60');
    await repo.create(scopeA, { name: 'd1', description: '', sizeGb: 1 });
    expect(header(fake.requests('POST', `${BASE}/volumes`)[0])).toBe('volume 3.60');
  });

  it('marks a new volume with its tenant and key, and finds it by the key', async () => {
    const record = await repo.create(scopeA, { name: 'd1', description: 'x', sizeGb: 2, idempotency: { key: 'k1', fingerprint: 'f1' } });
    expect(record.volume).toMatchObject({ name: 'd1', size_gb: 2, status: 'AVAILABLE', tenant: 'tenant-a' });
    const found = await repo.findByIdempotencyKey(scopeA, 'k1');
    expect(found).toMatchObject({ record: { volume: { id: record.volume.id } }, fingerprint: 'f1' });
    expect(await repo.findByIdempotencyKey(scopeB, 'k1')).toBeUndefined();
    expect(await repo.get(scopeB, record.volume.id)).toBeUndefined();
    expect(await repo.tenantOwnsVolumes('tenant-a')).toBe(true);
    expect(await repo.tenantOwnsVolumes('tenant-b')).toBe(false);
  });

  it('lists a tenant\'s volumes a page at a time, with name prefixes and status filters', async () => {
    for (const name of ['web-1', 'web-2', 'db-1']) await repo.create(scopeA, { name, description: '', sizeGb: 1 });
    await repo.create(scopeB, { name: 'web-9', description: '', sizeGb: 1 });
    const first = await repo.list(scopeA, { statuses: ['AVAILABLE'], limit: 2 });
    expect(first.items.map((r) => r.volume.name)).toEqual(['web-1', 'web-2']);
    const second = await repo.list(scopeA, { statuses: ['AVAILABLE'], limit: 2, cursor: first.nextCursor as string });
    expect(second).toMatchObject({ items: [{ volume: { name: 'db-1' } }], nextCursor: null });
    const prefixed = await repo.list(scopeA, { statuses: ['AVAILABLE'], limit: 10, name: { value: 'web', prefix: true } });
    expect(prefixed.items).toHaveLength(2);
    const exact = await repo.list(scopeA, { statuses: ['AVAILABLE'], limit: 10, name: { value: 'db-1', prefix: false } });
    expect(exact.items).toHaveLength(1);
    expect((await repo.list(scopeA, { statuses: ['IN_USE'], limit: 10 })).items).toEqual([]);
    const admin = await repo.list({ ...scopeA, role: 'admin' }, { statuses: ['AVAILABLE'], limit: 10 });
    expect(admin.items).toHaveLength(4);
    await expect(repo.list(scopeA, { statuses: ['AVAILABLE'], limit: 2, cursor: 'bogus' })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
  });

  it('renames through PUT once the guard passes', async () => {
    const { volume } = await repo.create(scopeA, { name: 'd1', description: '', sizeGb: 1 });
    const renamed = await repo.update(scopeA, volume.id, { name: 'd2' }, none);
    expect(renamed.volume.name).toBe('d2');
    await expect(repo.update(scopeA, volume.id, { name: 'd3' }, () => { throw new ApiError('PRECONDITION_FAILED', 'stale'); })).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
    await expect(repo.update(scopeB, volume.id, { name: 'd3' }, none)).rejects.toMatchObject({ code: 'VOLUME_NOT_FOUND' });
  });

  it('extends only to a larger size, and shows the extend as a task until Cinder does', async () => {
    const { volume } = await repo.create(scopeA, { name: 'd1', description: '', sizeGb: 2 });
    await expect(repo.apply(scopeA, volume.id, { action: 'extend', sizeGb: 2 }, none)).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    const extended = await repo.apply(scopeA, volume.id, { action: 'extend', sizeGb: 3 }, none);
    expect(extended.volume.size_gb).toBe(3);
    expect(fake.requests('POST', `${BASE}/volumes/${volume.id}/action`)[0]?.body).toEqual({ 'os-extend': { new_size: 3 } });
  });

  it('attaches and detaches through Nova, and refuses a detach from another VM with 404', async () => {
    const { volume } = await repo.create(scopeA, { name: 'd1', description: '', sizeGb: 1 });
    const attaching = await repo.apply(scopeA, volume.id, { action: 'attach', vmId: 's1', device: '/dev/vdc' }, none);
    expect(attaching.volume).toMatchObject({ status: 'AVAILABLE', task: 'attaching', attached_to: { vm_id: 's1', device: '/dev/vdb' } });
    expect(fake.requests('POST', '/compute/v2.1/servers/s1/os-volume_attachments')[0]?.body).toEqual({ volumeAttachment: { volumeId: volume.id, device: '/dev/vdc' } });
    (volumes.get(volume.id) as FakeVolume).status = 'in-use';
    await expect(repo.apply(scopeA, volume.id, { action: 'detach', vmId: 's2' }, none)).rejects.toMatchObject({ code: 'VOLUME_NOT_FOUND' });
    await expect(repo.apply(scopeA, volume.id, { action: 'delete' }, none)).rejects.toMatchObject({ code: 'RESOURCE_IN_USE' });
    const detaching = await repo.apply(scopeA, volume.id, { action: 'detach', vmId: 's1' }, none);
    expect(detaching.volume).toMatchObject({ status: 'IN_USE', task: 'detaching' });
  });

  it('tells its listeners when a task it started settles, polling Cinder until it does; a delete is not followed', async () => {
    const settles: string[] = [];
    repo.onSettled(({ volume, previous, task }) => settles.push(`${task}: ${previous} -> ${volume.status} ${volume.size_gb} GB`));
    const { volume } = await repo.create(scopeA, { name: 'd1', description: '', sizeGb: 1 });
    await repo.apply(scopeA, volume.id, { action: 'extend', sizeGb: 2 }, none);
    expect(settles).toEqual(['creating: AVAILABLE -> AVAILABLE 1 GB', 'extending: AVAILABLE -> AVAILABLE 2 GB']);
    await repo.apply(scopeA, volume.id, { action: 'attach', vmId: 's1', device: null }, none);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(settles).toHaveLength(2);
    (volumes.get(volume.id) as FakeVolume).status = 'in-use';
    await expect.poll(() => settles.length).toBe(3);
    expect(settles[2]).toBe('attaching: AVAILABLE -> IN_USE 2 GB');
    (volumes.get(volume.id) as FakeVolume).status = 'available';
    (volumes.get(volume.id) as FakeVolume).attachments = [];
    await repo.apply(scopeA, volume.id, { action: 'delete' }, none);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(settles).toHaveLength(3);
  });

  it('keeps following a task Cinder has not begun when the call returns, until the volume changes', async () => {
    const settles: string[] = [];
    repo.onSettled(({ volume, task }) => settles.push(`${task}: ${volume.status}`));
    const { volume } = await repo.create(scopeA, { name: 'd1', description: '', sizeGb: 1 });
    // This Cinder answers the detach and changes the volume only later.
    Object.assign(volumes.get(volume.id) as FakeVolume, { status: 'in-use', attachments: [{ server_id: 's1', device: '/dev/vdb' }] });
    fake.route('DELETE', `/compute/v2.1/servers/s1/os-volume_attachments/${volume.id}`, { status: 202 });
    const detaching = await repo.apply(scopeA, volume.id, { action: 'detach', vmId: 's1' }, none);
    expect(detaching.volume).toMatchObject({ status: 'IN_USE', task: 'detaching' });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(settles).toEqual(['creating: AVAILABLE']);
    Object.assign(volumes.get(volume.id) as FakeVolume, { status: 'available', attachments: [], updated_at: '2026-11-23T21:00:00.000000' });
    await expect.poll(() => settles).toEqual(['creating: AVAILABLE', 'detaching: AVAILABLE']);
  });

  it('deletes: a volume Cinder has forgotten reads DELETED once, then as unknown', async () => {
    const { volume } = await repo.create(scopeA, { name: 'd1', description: '', sizeGb: 1 });
    const deleted = await repo.apply(scopeA, volume.id, { action: 'delete' }, none);
    expect(deleted.volume).toMatchObject({ status: 'DELETED', task: null });
    expect(await repo.get(scopeA, volume.id)).toBeUndefined();
  });

  it('answers a delete during a delete with the volume as it is', async () => {
    const { volume } = await repo.create(scopeA, { name: 'd1', description: '', sizeGb: 1 });
    (volumes.get(volume.id) as FakeVolume).status = 'deleting';
    const again = await repo.apply(scopeA, volume.id, { action: 'delete' }, none);
    expect(again.volume.task).toBe('deleting');
    expect(fake.requests('DELETE', `${BASE}/volumes/${volume.id}`)).toHaveLength(0);
  });

  it.each([
    [413, 'VolumeSizeExceedsAvailableQuota: Requested volume exceeds allowed gigabytes quota', 'QUOTA_EXCEEDED'],
    [500, 'boom', 'BACKEND_UNAVAILABLE'],
  ])('answers Cinder\'s %i on create ("%s") as %s', async (status, message, code) => {
    fake.fail(/^POST \/volume/, { status, body: { overLimit: { message } } });
    await expect(repo.create(scopeA, { name: 'd1', description: '', sizeGb: 1 })).rejects.toMatchObject({ code });
  });

  it('answers Nova\'s refusals of an attach in the volume\'s words', async () => {
    const { volume } = await repo.create(scopeA, { name: 'd1', description: '', sizeGb: 1 });
    fake.fail(/os-volume_attachments/, { status: 404, body: { itemNotFound: { message: 'Instance s1 could not be found.' } } });
    await expect(repo.apply(scopeA, volume.id, { action: 'attach', vmId: 's1', device: null }, none)).rejects.toMatchObject({ code: 'VM_NOT_FOUND' });
    fake.fail(/os-volume_attachments/, { status: 400, body: { badRequest: { message: 'Invalid volume: volume is already attached' } } });
    await expect(repo.apply(scopeA, volume.id, { action: 'attach', vmId: 's1', device: null }, none)).rejects.toMatchObject({ code: 'RESOURCE_IN_USE' });
    fake.fail(/os-volume_attachments/, { status: 409, body: { conflictingRequest: { message: 'Cannot attach in vm_state error' } } });
    await expect(repo.apply(scopeA, volume.id, { action: 'attach', vmId: 's1', device: null }, none)).rejects.toMatchObject({ code: 'INVALID_STATE_TRANSITION' });
    fake.fail(/^POST \/volume.*action$/, { status: 404, body: { itemNotFound: { message: 'gone' } } });
    await expect(repo.apply(scopeA, volume.id, { action: 'extend', sizeGb: 5 }, none)).rejects.toMatchObject({ code: 'VOLUME_NOT_FOUND' });
  });

  it('reads the project\'s volume quotas from Cinder\'s limits', async () => {
    await repo.create(scopeA, { name: 'd1', description: '', sizeGb: 1 });
    expect(await repo.quotaUsage(scopeA)).toEqual({ volumes: { limit: 10, used: 1 }, gigabytes: { limit: 1000, used: 3 } });
  });

  it('makes data disks marked with the tenant, and deletes those made when one fails', async () => {
    const disks = await repo.makeDataDisks(scopeA, 'web', [{ size_gb: 1, delete_on_termination: true }, { size_gb: 2, delete_on_termination: false }]);
    expect(disks).toEqual([
      { id: expect.any(String), deleteOnTermination: true },
      { id: expect.any(String), deleteOnTermination: false },
    ]);
    expect([...volumes.values()].map((v) => [v.name, v.metadata['vmapi-tenant']])).toEqual([
      ['web-disk-1', 'tenant-a'],
      ['web-disk-2', 'tenant-a'],
    ]);
    volumes.clear();
    fake.fail(/^POST \/volume\/v3\/p1\/volumes$/, { status: 413, body: { overLimit: { message: 'quota' } } }, 1);
    let calls = 0;
    fake.route('POST', `${BASE}/volumes`, (req) => {
      calls += 1;
      if (calls === 2) return { status: 413, body: { overLimit: { message: 'VolumeLimitExceeded: quota' } } };
      const body = (req.body as { volume: { name: string; size: number; metadata: Record<string, string> } }).volume;
      const id = `00000000-0000-4000-8000-${String(++counter).padStart(12, '0')}`;
      volumes.set(id, { ...body, description: null, id, status: 'available', attachments: [], created_at: '2026-11-23T19:00:00', updated_at: null });
      routesFor(id);
      return { status: 202, body: { volume: volumes.get(id) } };
    });
    fake.clearFaults();
    await expect(repo.makeDataDisks(scopeA, 'db', [{ size_gb: 1, delete_on_termination: false }, { size_gb: 2, delete_on_termination: false }])).rejects.toMatchObject({
      code: 'QUOTA_EXCEEDED',
    });
    expect(volumes.size).toBe(0);
  });

  it('refuses a data disk that Cinder puts in error, and deletes it', async () => {
    fake.route('POST', `${BASE}/volumes`, (req) => {
      const body = (req.body as { volume: { name: string; size: number; metadata: Record<string, string> } }).volume;
      const id = '00000000-0000-4000-8000-0000000000ee';
      volumes.set(id, { ...body, description: null, id, status: 'error', attachments: [], created_at: '2026-11-23T19:00:00', updated_at: null });
      routesFor(id);
      return { status: 202, body: { volume: volumes.get(id) } };
    });
    await expect(repo.makeDataDisks(scopeA, 'db', [{ size_gb: 1, delete_on_termination: false }])).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    expect(volumes.size).toBe(0);
  });
});
