import { describe, expect, it } from 'vitest';
import { MemoryVolumeRepository } from '../../src/backends/memory/memory-volume-repository.js';
import { isApiError } from '../../src/domain/errors.js';
import type { Scope } from '../../src/domain/tenancy.js';
import { assertVolumeAllowed, volumeActions, volumeActionsAllowedNow, volumeStatuses, volumeTransitions } from '../../src/domain/volume.js';

const scope: Scope = { tenant: 't1', keyId: null, role: 'member', requestId: 'r' };
const limits = { actionDelayMs: 0, deletedRetentionMs: 60_000, maxTombstones: 100, idempotencyTtlMs: 60_000, maxIdempotencyKeys: 100, storageGb: 10, quotaVolumes: 3, quotaGigabytes: 20 };
const none = () => undefined;
const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return isApiError(err) ? err.code : 'not an ApiError';
  }
};

describe('the volume transition table', () => {
  for (const status of volumeStatuses) {
    for (const action of volumeActions) {
      const allowed = volumeTransitions[status][action];
      it(`${allowed ? 'accepts' : 'refuses'} ${action} on a settled ${status} volume`, () => {
        const code = codeOf(() => assertVolumeAllowed({ id: 'v', status, task: null }, action));
        if (allowed) expect(code).toBeUndefined();
        else expect(code).toBe(status === 'IN_USE' && (action === 'delete' || action === 'attach') ? 'RESOURCE_IN_USE' : 'INVALID_STATE_TRANSITION');
      });
    }
  }

  it('refuses everything while a task runs, and lists nothing as allowed', () => {
    expect(codeOf(() => assertVolumeAllowed({ id: 'v', status: 'AVAILABLE', task: 'extending' }, 'delete'))).toBe('TASK_IN_PROGRESS');
    expect(volumeActionsAllowedNow({ status: 'AVAILABLE', task: 'creating' })).toEqual([]);
  });
});

describe('the memory volume repository', () => {
  it('refuses an extend the pool cannot hold with 409 and leaves the volume as it was', async () => {
    const repo = new MemoryVolumeRepository(limits);
    const { volume } = await repo.create(scope, { name: 'a', description: '', sizeGb: 6 });
    await expect(repo.apply(scope, volume.id, { action: 'extend', sizeGb: 11 }, none)).rejects.toMatchObject({ code: 'INSUFFICIENT_CAPACITY' });
    expect((await repo.get(scope, volume.id))?.volume.size_gb).toBe(6);
    expect(await repo.quotaUsage(scope)).toEqual({ volumes: { limit: 3, used: 1 }, gigabytes: { limit: 20, used: 6 } });
  });

  it('refuses the quota\'s fourth volume, and frees the quota on delete', async () => {
    const repo = new MemoryVolumeRepository(limits);
    const made = [];
    for (let i = 0; i < 3; i++) made.push((await repo.create(scope, { name: `v${i}`, description: '', sizeGb: 1 })).volume);
    await expect(repo.create(scope, { name: 'v4', description: '', sizeGb: 1 })).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });
    await repo.apply(scope, (made[0] as { id: string }).id, { action: 'delete' }, none);
    expect((await repo.create(scope, { name: 'v4', description: '', sizeGb: 1 })).volume.status).toBe('AVAILABLE');
  });

  it('refuses to change a deleted volume, and a device already taken on the VM', async () => {
    const repo = new MemoryVolumeRepository(limits);
    const a = (await repo.create(scope, { name: 'a', description: '', sizeGb: 1 })).volume;
    const b = (await repo.create(scope, { name: 'b', description: '', sizeGb: 1 })).volume;
    await repo.apply(scope, a.id, { action: 'attach', vmId: 'vm1', device: '/dev/vdb' }, none);
    await expect(repo.apply(scope, b.id, { action: 'attach', vmId: 'vm1', device: '/dev/vdb' }, none)).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    expect(repo.of('vm1')).toEqual([{ id: a.id, device: '/dev/vdb' }]);
    await repo.apply(scope, b.id, { action: 'delete' }, none);
    await expect(repo.update(scope, b.id, { name: 'c' }, none)).rejects.toMatchObject({ code: 'INVALID_STATE_TRANSITION' });
  });

  it('shows a delayed create as creating, detaches the volumes of a deleted VM, and refuses a delete while creating', async () => {
    const repo = new MemoryVolumeRepository({ ...limits, actionDelayMs: 10_000 });
    const created = (await repo.create(scope, { name: 'a', description: '', sizeGb: 1 })).volume;
    expect(created.task).toBe('creating');
    repo.close();
    const settledRepo = new MemoryVolumeRepository(limits);
    const { volume } = await settledRepo.create(scope, { name: 'a', description: '', sizeGb: 1 });
    await settledRepo.apply(scope, volume.id, { action: 'attach', vmId: 'vm1', device: null }, none);
    settledRepo.vmDeleted('vm1');
    expect((await settledRepo.get(scope, volume.id))?.volume).toMatchObject({ status: 'AVAILABLE', attached_to: null });
    const deleting = new MemoryVolumeRepository({ ...limits, actionDelayMs: 10_000 });
    const d = await deleting.create(scope, { name: 'd', description: '', sizeGb: 1 });
    await expect(deleting.apply(scope, d.volume.id, { action: 'delete' }, none)).rejects.toMatchObject({ code: 'TASK_IN_PROGRESS' });
    deleting.close();
  });
});
