import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { VmSchema } from '../../src/http/schemas.js';
import { VolumeSchema } from '../../src/http/volume-schemas.js';
import { ApiClient, type ApiResponse, type ProblemBody, type VmBody } from '../support/api-client.js';

/** A running API in front of some backend, and what the suite may assume of it. */
export interface VolumeContractTarget {
  baseUrl: string;
  close(): Promise<void>;
  image: string;
  /** A flavor that fits, for the VMs volumes attach to. */
  flavor: string;
  /** A flavor that no host can hold: the VM goes to ERROR. */
  unplaceableFlavor: string;
  /** The tenant's gigabytes quota: a volume bigger than this is refused with 403. */
  quotaGigabytes: number;
  headers?: Record<string, string>;
  otherTenant?: Record<string, string>;
}

/** What differs between backends, known when the suite is declared. */
export interface VolumeContractOptions {
  /** The cloud extends an attached volume (Cinder only with some drivers). */
  extendsInUse?: boolean;
  /** A volume of this size does not fit the storage and settles ERROR (memory's pool); absent where none can be provoked. */
  unstorableSizeGb?: number;
  /** Others use the same quota meanwhile (a shared cloud project): usage is checked as a lower bound. */
  sharedQuota?: boolean;
}

interface VolumeBody {
  id: string;
  name: string;
  description: string;
  size_gb: number;
  status: string;
  task: string | null;
  attached_to: { vm_id: string; device: string | null } | null;
  fault: { code: string; message: string; at: string } | null;
  tenant: string;
  allowed_actions: string[];
}

type VmWithVolumes = VmBody & { volumes: { id: string; device: string | null }[] };

/**
 * docs/contract.md section 10 as HTTP tests for any backend: volumes, extend, attach and detach,
 * data disks made with a VM. It polls for settling and assumes no timings.
 */
export function describeVolumeContract(label: string, makeTarget: () => Promise<VolumeContractTarget>, options: VolumeContractOptions = {}): void {
  const unstorable = options.unstorableSizeGb;
  describe(`volume API contract (${label})`, () => {
    let target: VolumeContractTarget;
    let api: ApiClient;
    const prefix = `cv-${randomBytes(3).toString('hex')}`;
    let counter = 0;
    const nextName = () => `${prefix}-${++counter}`;
    const vms: string[] = [];
    const volumes: string[] = [];

    const getVolume = (id: string, client = api) => client.call<VolumeBody>('GET', `/api/v1/volumes/${id}`);
    const settledVolume = async (id: string): Promise<ApiResponse<VolumeBody>> => {
      const deadline = Date.now() + 120_000;
      for (;;) {
        const response = await getVolume(id);
        if (response.status !== 200 || response.body.task === null) return response;
        if (Date.now() > deadline) throw new Error(`volume ${id} still ${response.body.task}`);
        await sleep(50);
      }
    };
    const createVolume = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
      api.call<VolumeBody>('POST', '/api/v1/volumes', { body, headers });
    const newVolume = async (size = 1): Promise<VolumeBody> => {
      const response = await createVolume({ name: nextName(), size_gb: size });
      expect([201, 202], JSON.stringify(response.body)).toContain(response.status);
      volumes.push(response.body.id);
      return (await settledVolume(response.body.id)).body;
    };
    const newVm = async (extra: Record<string, unknown> = {}): Promise<VmWithVolumes> => {
      const vm = (await api.createSettled({ name: nextName(), flavor: target.flavor, image: target.image, ...extra })) as VmWithVolumes;
      vms.push(vm.id);
      return vm;
    };
    /** Runs a volume call that answers the volume, and waits for it to settle; fails if refused. */
    const settle = async (response: ApiResponse<VolumeBody>): Promise<VolumeBody> => {
      expect([200, 202], JSON.stringify(response.body)).toContain(response.status);
      return (await settledVolume(response.body.id)).body;
    };
    const attach = (vmId: string, volume: string, device?: string) =>
      api.call<VolumeBody>('POST', `/api/v1/vms/${vmId}/volumes`, { body: { volume, ...(device !== undefined && { device }) } });
    const detach = (vmId: string, volume: string) => api.call<VolumeBody>('DELETE', `/api/v1/vms/${vmId}/volumes/${volume}`);
    const problem = (response: ApiResponse<unknown>) => response.body as ProblemBody;
    /** Every volume of this run not on its way out, any status: proof that nothing was left behind. */
    const allMine = async (): Promise<VolumeBody[]> =>
      (await api.call<{ data: VolumeBody[] }>('GET', `/api/v1/volumes?name=${prefix}-*&status=AVAILABLE,IN_USE,ERROR&limit=1000`)).body.data.filter(
        (v) => v.task !== 'deleting',
      );

    beforeAll(async () => {
      target = await makeTarget();
      api = new ApiClient(target.baseUrl, target.headers);
    });

    // Each test's VMs and volumes go when it ends: a cloud's volume quota (Cinder's default is
    // 10) must hold no more than one test's worth.
    afterEach(async () => {
      if (!api) return;
      const ownVms = vms.splice(0);
      await Promise.all(ownVms.map((id) => api.deleteVm(id)));
      await Promise.all(ownVms.map((id) => api.settled(id).catch(() => undefined)));
      const ownVolumes = volumes.splice(0);
      await Promise.all(
        ownVolumes.map(async (id) => {
          // A VM's delete detaches its volumes a moment later: wait until nothing holds the volume.
          const volume = await waitForVolume(id, (v) => v === undefined || (v.task === null && v.status !== 'IN_USE'));
          if (volume && volume.status !== 'DELETED') await api.call('DELETE', `/api/v1/volumes/${id}`);
        }),
      );
    });

    afterAll(async () => {
      await target?.close();
    });

    describe('creating and reading', () => {
      it('creates a volume that settles AVAILABLE, with Location, ETag and the resource shape of section 10', async () => {
        const name = nextName();
        const response = await createVolume({ name, size_gb: 2, description: 'contract' });
        expect([201, 202]).toContain(response.status);
        volumes.push(response.body.id);
        expect(response.headers.get('location')).toBe(`/api/v1/volumes/${response.body.id}`);
        expect(response.headers.get('etag')).toMatch(/^".+"$/);
        expect(VolumeSchema.safeParse(response.body).success, JSON.stringify(response.body)).toBe(true);
        if (response.status === 202) expect(response.body.task).toBe('creating');
        const volume = (await settledVolume(response.body.id)).body;
        expect(volume).toMatchObject({ name, description: 'contract', size_gb: 2, status: 'AVAILABLE', task: null, attached_to: null, fault: null });
        expect(volume.allowed_actions).toEqual(['extend', 'attach', 'delete']);
      });

      it.each([
        ['size 0', { size_gb: 0 }, 'body.size_gb'],
        ['size 16385', { size_gb: 16_385 }, 'body.size_gb'],
        ['a size that is not whole', { size_gb: 1.5 }, 'body.size_gb'],
        ['a size as text', { size_gb: '10' }, 'body.size_gb'],
        ['an unknown field', { size: 10 }, 'body.size'],
        ['a bad name', { name: '-bad-' }, 'body.name'],
      ])('refuses a create with %s (400, nothing made)', async (_what, change, path) => {
        const response = await createVolume({ name: nextName(), size_gb: 1, ...change });
        expect(response.status).toBe(400);
        expect(problem(response).code).toBe('VALIDATION_ERROR');
        expect(problem(response).errors?.map((e) => e.path)).toContain(path);
      });

      it('refuses a volume over the gigabytes quota with 403 and makes nothing', async () => {
        const before = (await allMine()).length;
        const response = await createVolume({ name: nextName(), size_gb: target.quotaGigabytes + 1 });
        expect(response.status).toBe(403);
        expect(problem(response).code).toBe('QUOTA_EXCEEDED');
        expect((await allMine()).length).toBe(before);
      });

      it('shows the tenant\'s volumes and gigabytes in GET /quotas, limit and use, next to the VM quotas', async () => {
        type Quotas = Record<'instances' | 'volumes' | 'gigabytes', { limit: number; used: number }>;
        const quotas = async () => {
          const response = await api.call<Quotas>('GET', '/api/v1/quotas');
          expect(response.status).toBe(200);
          return response.body;
        };
        // The last test's volumes are deleted as it ends, and a delete that settles later would
        // leave `before` one volume high: measure once the tenant has none on its way out.
        const deadline = Date.now() + 120_000;
        const deleting = async () =>
          (await api.call<{ data: VolumeBody[] }>('GET', '/api/v1/volumes?limit=1000')).body.data.some((v) => v.task === 'deleting');
        while ((await deleting()) && Date.now() < deadline) await sleep(100);
        const before = await quotas();
        await newVolume(3);
        const after = await quotas();
        expect(after.instances.limit).not.toBe(0);
        expect(after.gigabytes.limit).toBe(target.quotaGigabytes);
        expect(after.volumes.limit).toBeGreaterThan(0);
        if (options.sharedQuota) {
          expect(after.volumes.used).toBeGreaterThanOrEqual(1);
          expect(after.gigabytes.used).toBeGreaterThanOrEqual(3);
        } else {
          expect(after.volumes.used).toBe(before.volumes.used + 1);
          expect(after.gigabytes.used).toBe(before.gigabytes.used + 3);
        }
      });

      it('answers an unknown volume with 404 VOLUME_NOT_FOUND and a malformed id with 400', async () => {
        const unknown = await getVolume('00000000-0000-4000-8000-000000000000');
        expect(unknown.status).toBe(404);
        expect(problem(unknown).code).toBe('VOLUME_NOT_FOUND');
        expect((await getVolume('not-a-uuid')).status).toBe(400);
      });

      it('answers 304 to If-None-Match with the current ETag', async () => {
        const volume = await newVolume();
        const etag = (await getVolume(volume.id)).headers.get('etag') as string;
        const again = await api.call('GET', `/api/v1/volumes/${volume.id}`, { headers: { 'If-None-Match': etag } });
        expect(again.status).toBe(304);
      });

      it('lists a page at a time, filtered by name and status, oldest first', async () => {
        const a = await newVolume();
        const b = await newVolume();
        const first = await api.call<{ data: VolumeBody[]; next_cursor: string | null }>('GET', `/api/v1/volumes?name=${prefix}-*&limit=1`);
        expect(first.status).toBe(200);
        expect(first.body.data).toHaveLength(1);
        expect(first.body.next_cursor).not.toBeNull();
        const ids: string[] = [];
        let cursor: string | null = null;
        do {
          const page: ApiResponse<{ data: VolumeBody[]; next_cursor: string | null }> = await api.call(
            'GET',
            `/api/v1/volumes?name=${prefix}-*&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
          );
          ids.push(...page.body.data.map((v) => v.id));
          cursor = page.body.next_cursor;
        } while (cursor);
        expect(ids.indexOf(a.id)).toBeGreaterThan(-1);
        expect(ids.indexOf(a.id)).toBeLessThan(ids.indexOf(b.id));
        const exact = await api.call<{ data: VolumeBody[] }>('GET', `/api/v1/volumes?name=${a.name}`);
        expect(exact.body.data.map((v) => v.id)).toEqual([a.id]);
        const inUse = await api.call<{ data: VolumeBody[] }>('GET', `/api/v1/volumes?name=${a.name}&status=IN_USE`);
        expect(inUse.body.data).toEqual([]);
        expect((await api.call('GET', '/api/v1/volumes?status=RUNNING')).status).toBe(400);
      });
    });

    describe('changing', () => {
      it('renames with PATCH, honouring If-Match (412 on a stale ETag)', async () => {
        const volume = await newVolume();
        const etag = (await getVolume(volume.id)).headers.get('etag') as string;
        const renamed = await api.call<VolumeBody>('PATCH', `/api/v1/volumes/${volume.id}`, {
          body: { name: `${volume.name}-x`, description: 'renamed' },
          headers: { 'If-Match': etag },
        });
        expect(renamed.status).toBe(200);
        expect(renamed.body).toMatchObject({ name: `${volume.name}-x`, description: 'renamed' });
        expect(renamed.headers.get('etag')).not.toBe(etag);
        const stale = await api.call('PATCH', `/api/v1/volumes/${volume.id}`, { body: { description: 'again' }, headers: { 'If-Match': etag } });
        expect(stale.status).toBe(412);
        expect(problem(stale).code).toBe('PRECONDITION_FAILED');
      });

      it('extends to a larger size only (400 for the same or a smaller one)', async () => {
        const volume = await newVolume(1);
        for (const size of [1, 0]) {
          const refused = await api.call('POST', `/api/v1/volumes/${volume.id}/extend`, { body: { size_gb: size } });
          expect(refused.status).toBe(400);
        }
        const extended = await settle(await api.call('POST', `/api/v1/volumes/${volume.id}/extend`, { body: { size_gb: 2 } }));
        expect(extended).toMatchObject({ size_gb: 2, status: 'AVAILABLE', task: null });
      });

      it('replays a create with the same Idempotency-Key, and refuses the key with another body (422)', async () => {
        const key = `${prefix}-key`;
        const body = { name: nextName(), size_gb: 1 };
        const first = await createVolume(body, { 'Idempotency-Key': key });
        volumes.push(first.body.id);
        const again = await createVolume(body, { 'Idempotency-Key': key });
        expect(again.body.id).toBe(first.body.id);
        expect(again.headers.get('idempotent-replayed')).toBe('true');
        const other = await createVolume({ ...body, size_gb: 2 }, { 'Idempotency-Key': key });
        expect(other.status).toBe(422);
      });

      it('deletes a volume: DELETED, then 404 or DELETED on GET', async () => {
        const volume = await newVolume();
        const deleting = await api.call<VolumeBody>('DELETE', `/api/v1/volumes/${volume.id}?wait=true`);
        expect([200, 202]).toContain(deleting.status);
        if (deleting.status === 200) expect(deleting.body).toMatchObject({ status: 'DELETED', task: null });
        else expect(deleting.body.task).toBe('deleting');
        const after = await waitForVolume(volume.id, (v) => v === undefined || v.status === 'DELETED');
        expect(after === undefined || after.status === 'DELETED').toBe(true);
      });

      if (unstorable !== undefined) {
        it('puts a volume the storage cannot hold in ERROR with a fault; it can only be deleted', async () => {
          const response = await createVolume({ name: nextName(), size_gb: unstorable });
          expect([201, 202]).toContain(response.status);
          volumes.push(response.body.id);
          const volume = (await settledVolume(response.body.id)).body;
          expect(volume.status).toBe('ERROR');
          expect(volume.fault).toMatchObject({ code: 'STORAGE_FULL' });
          expect(volume.allowed_actions).toEqual(['delete']);
        });
      }
    });

    describe('attaching to VMs', () => {
      it('attaches, shows the volume on the VM, refuses a second VM and a delete (409), detaches', async () => {
        const [vm, other, volume] = await Promise.all([newVm(), newVm(), newVolume()]);
        const attached = await settle(await attach(vm.id, volume.id));
        expect(attached).toMatchObject({ status: 'IN_USE', task: null, attached_to: { vm_id: vm.id } });
        const shown = (await api.getVm(vm.id)).body as VmWithVolumes;
        expect(VmSchema.safeParse(shown).success).toBe(true);
        // The VM's own read names the device the volume has (section 10), as the volume does.
        expect(attached.attached_to?.device).toMatch(/^\/dev\/\w+$/);
        expect(shown.volumes).toEqual([{ id: volume.id, device: attached.attached_to?.device }]);

        const elsewhere = await attach(other.id, volume.id);
        expect(elsewhere.status).toBe(409);
        expect(problem(elsewhere).code).toBe('RESOURCE_IN_USE');
        const deleted = await api.call('DELETE', `/api/v1/volumes/${volume.id}`);
        expect(deleted.status).toBe(409);
        expect(problem(deleted).code).toBe('RESOURCE_IN_USE');
        const wrongVm = await detach(other.id, volume.id);
        expect(wrongVm.status).toBe(404);

        const detached = await settle(await detach(vm.id, volume.id));
        expect(detached).toMatchObject({ status: 'AVAILABLE', attached_to: null });
        expect(((await api.getVm(vm.id)).body as VmWithVolumes).volumes).toEqual([]);
      });

      it('refuses an attach to an unknown VM (404), an unknown volume (404), and a VM in ERROR (409)', async () => {
        const volume = await newVolume();
        const noVm = await attach('00000000-0000-4000-8000-000000000000', volume.id);
        expect(noVm.status).toBe(404);
        expect(problem(noVm).code).toBe('VM_NOT_FOUND');
        const vm = await newVm();
        const noVolume = await attach(vm.id, '00000000-0000-4000-8000-000000000000');
        expect(noVolume.status).toBe(404);
        expect(problem(noVolume).code).toBe('VOLUME_NOT_FOUND');
        const broken = await newVm({ flavor: target.unplaceableFlavor });
        expect(broken.status).toBe('ERROR');
        const refused = await attach(broken.id, volume.id);
        expect(refused.status).toBe(409);
        expect((await getVolume(volume.id)).body.status).toBe('AVAILABLE');
      });

      it('refuses an attach to a deleted VM', async () => {
        const [vm, volume] = await Promise.all([newVm(), newVolume()]);
        await api.actAndSettle(vm.id, 'delete');
        const refused = await attach(vm.id, volume.id);
        expect([404, 409]).toContain(refused.status);
        expect((await getVolume(volume.id)).body.status).toBe('AVAILABLE');
      });

      if (options.extendsInUse) {
        it('extends an attached volume', async () => {
          const [vm, volume] = await Promise.all([newVm(), newVolume(1)]);
          await settle(await attach(vm.id, volume.id));
          const extended = await settle(await api.call('POST', `/api/v1/volumes/${volume.id}/extend`, { body: { size_gb: 3 } }));
          expect(extended).toMatchObject({ size_gb: 3, status: 'IN_USE' });
          await settle(await detach(vm.id, volume.id));
        });
      }
    });

    describe('data disks', () => {
      it('makes and attaches data disks with a VM; its delete deletes delete_on_termination disks and leaves the others AVAILABLE', async () => {
        const vm = await newVm({ data_disks: [{ size_gb: 1, delete_on_termination: true }, { size_gb: 2 }] });
        expect(vm.status).toBe('STOPPED');
        expect(vm.volumes).toHaveLength(2);
        const disks = await Promise.all(vm.volumes.map(async (v) => (await settledVolume(v.id)).body));
        volumes.push(...disks.map((d) => d.id));
        expect(disks.map((d) => [d.size_gb, d.status, d.attached_to?.vm_id]).sort()).toEqual([
          [1, 'IN_USE', vm.id],
          [2, 'IN_USE', vm.id],
        ]);
        await api.actAndSettle(vm.id, 'delete');
        const byId = new Map(disks.map((d) => [d.size_gb, d.id]));
        const kept = await waitForVolume(byId.get(2) as string, (v) => v?.status === 'AVAILABLE');
        expect(kept).toMatchObject({ status: 'AVAILABLE', attached_to: null });
        const gone = await waitForVolume(byId.get(1) as string, (v) => v === undefined || v.status === 'DELETED');
        expect(gone === undefined || gone.status === 'DELETED').toBe(true);
      });

      it('refuses data disks over the gigabytes quota with 403: no VM, no volume', async () => {
        const before = (await allMine()).length;
        const name = nextName();
        const half = Math.ceil((target.quotaGigabytes + 2) / 2);
        const response = await api.createVm({ name, flavor: target.flavor, image: target.image, data_disks: [{ size_gb: half }, { size_gb: half }] });
        expect(response.status).toBe(403);
        expect(problem(response).code).toBe('QUOTA_EXCEEDED');
        expect((await api.call<{ data: unknown[] }>('GET', `/api/v1/vms?name=${name}&status=STOPPED,RUNNING,ERROR`)).body.data).toEqual([]);
        expect((await allMine()).length).toBe(before);
      });

      it.each([
        ['size 0', [{ size_gb: 0 }]],
        ['an unknown field', [{ size_gb: 1, type: 'ssd' }]],
        ['nine disks', Array.from({ length: 9 }, () => ({ size_gb: 1 }))],
      ])('refuses data disks with %s (400)', async (_what, disks) => {
        const response = await api.createVm({ name: nextName(), flavor: target.flavor, image: target.image, data_disks: disks });
        expect(response.status).toBe(400);
      });

      if (unstorable !== undefined) {
        it('a VM whose data disk the storage cannot hold goes to ERROR and leaves no volume behind', async () => {
          const before = (await allMine()).length;
          const vm = await newVm({ data_disks: [{ size_gb: 1 }, { size_gb: unstorable }] });
          expect(vm.status).toBe('ERROR');
          expect(vm.volumes).toEqual([]);
          expect((await allMine()).length).toBe(before);
        });
      }
    });

    describe('tenants', () => {
      it('another tenant sees none of the volumes: the same 404 as an unknown id, an empty list', async () => {
        if (!target.otherTenant) return;
        const other = new ApiClient(target.baseUrl, target.otherTenant);
        const volume = await newVolume();
        const seen = await getVolume(volume.id, other);
        expect(seen.status).toBe(404);
        expect(problem(seen).code).toBe('VOLUME_NOT_FOUND');
        const listed = await other.call<{ data: VolumeBody[] }>('GET', `/api/v1/volumes?name=${prefix}-*`);
        expect(listed.body.data).toEqual([]);
        const deleted = await other.call('DELETE', `/api/v1/volumes/${volume.id}`);
        expect(deleted.status).toBe(404);
        const vm = await newVm();
        expect((await other.call('POST', `/api/v1/vms/${vm.id}/volumes`, { body: { volume: volume.id } })).status).toBe(404);
      });
    });

    async function waitForVolume(id: string, done: (v: VolumeBody | undefined) => boolean): Promise<VolumeBody | undefined> {
      const deadline = Date.now() + 120_000;
      for (;;) {
        const response = await getVolume(id);
        const volume = response.status === 200 ? response.body : undefined;
        if (done(volume) || Date.now() > deadline) return volume;
        await sleep(100);
      }
    }
  });
}
