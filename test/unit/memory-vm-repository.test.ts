import { memberScope } from '../support/scopes.js';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { seedFlavors, seedImages } from '../../src/backends/memory/catalog.js';
import { DAY_MS } from '../../src/backends/memory/memory-backend.js';
import { MemoryVmRepository } from '../../src/backends/memory/memory-vm-repository.js';
import type { CommandGuard, CreateVmInput, VmRecord } from '../../src/repository/vm-repository.js';
import { ApiError } from '../../src/domain/errors.js';
import { transitions } from '../../src/domain/transitions.js';
import { vmStatuses, type Flavor, type VmAction, type VmCommand, type VmStatus } from '../../src/domain/vm.js';
import pino from 'pino';
import { createBackend } from '../../src/backends/create-backend.js';
import { configFrom } from '../support/memory-app.js';
import { memoryLimits } from '../support/memory-limits.js';
import { caught } from '../support/caught.js';

const flavorNamed = (name: string): Flavor => {
  const flavor = seedFlavors.find((f) => f.name === name);
  if (!flavor) throw new Error(`no seed flavor ${name}`);
  return flavor;
};
const tiny = flavorNamed('m1.tiny'); // 1 vCPU, 512 MB
const small = flavorNamed('m1.small'); // 1 vCPU, 2048 MB
const medium = flavorNamed('m1.medium'); // 2 vCPUs, 4096 MB
const large = flavorNamed('m1.large'); // 4 vCPUs, 8192 MB
const image = seedImages[0] as (typeof seedImages)[number];

const HOUR_MS = 3_600_000;
const T0 = Date.parse('2026-03-01T12:00:00.000Z');

const limits = memoryLimits;

/** A clock the test moves by hand. */
function manualClock(start = T0) {
  const clock = { t: start, now: () => clock.t };
  return clock;
}

const accept: CommandGuard = () => {};
const input = (over: Partial<CreateVmInput> = {}): CreateVmInput => ({ name: 'vm', flavor: tiny, image, start: false, ...over });
const iso = (ms: number) => new Date(ms).toISOString();


async function must(repo: MemoryVmRepository, id: string): Promise<VmRecord> {
  const record = await repo.get(memberScope, id);
  if (!record) throw new Error(`VM ${id} is gone`);
  return record;
}

async function listAll(repo: MemoryVmRepository, statuses: readonly VmStatus[] = vmStatuses): Promise<VmRecord[]> {
  return (await repo.list(memberScope, { statuses, limit: 1000 })).items;
}

/** The command for `action`, with a flavor other than `from` for resize. */
function command(action: VmAction, from: Flavor = tiny): VmCommand {
  if (action === 'restart') return { action, type: 'hard' };
  if (action === 'resize') return { action, flavor: from === small ? medium : small };
  return { action };
}

/** How to bring a new (STOPPED) VM to each settled status, with actions only. */
const pathTo: Record<'STOPPED' | 'RUNNING' | 'PAUSED' | 'SUSPENDED', VmAction[]> = {
  STOPPED: [],
  RUNNING: ['start'],
  PAUSED: ['start', 'pause'],
  SUSPENDED: ['start', 'suspend'],
};

describe('MemoryVmRepository, settling at once', () => {
  let clock: ReturnType<typeof manualClock>;
  let repo: MemoryVmRepository;

  beforeEach(() => {
    clock = manualClock();
    repo = new MemoryVmRepository(limits(), clock.now);
  });
  afterEach(() => repo.close());

  describe('create', () => {
    it('settles a new VM in STOPPED with an address, version 1 and both times at the clock', async () => {
      const record = await repo.create(memberScope, input({ name: 'web-1' }));
      expect(record.vm).toMatchObject({
        name: 'web-1',
        flavor: 'm1.tiny',
        image: image.name,
        status: 'STOPPED',
        task: null,
        ip_address: '10.0.0.2',
        fault: null,
        created_at: iso(T0),
        updated_at: iso(T0),
      });
      expect(record.version).toBe('1');
      expect(record.placed).toBe(true);
      expect(record.vm.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    });

    it('settles in RUNNING when asked to start', async () => {
      const record = await repo.create(memberScope, input({ start: true }));
      expect(record.vm.status).toBe('RUNNING');
      expect(record.vm.task).toBeNull();
    });

    it('gives every VM its own id and address', async () => {
      const records = await Promise.all(Array.from({ length: 20 }, (_, i) => repo.create(memberScope, input({ name: `vm-${i}` }))));
      expect(new Set(records.map((r) => r.vm.id)).size).toBe(20);
      expect(new Set(records.map((r) => r.vm.ip_address)).size).toBe(20);
    });

    it('get returns what create returned, and undefined for an unknown id', async () => {
      const record = await repo.create(memberScope, input());
      expect(await repo.get(memberScope, record.vm.id)).toEqual(record);
      expect(await repo.get(memberScope, '00000000-0000-4000-8000-000000000000')).toBeUndefined();
    });

    it('the pollIntervalMs is a quarter of the delay, kept between 5 and 50 ms', () => {
      expect(new MemoryVmRepository(limits({ actionDelayMs: 0 })).pollIntervalMs).toBe(5);
      expect(new MemoryVmRepository(limits({ actionDelayMs: 100 })).pollIntervalMs).toBe(25);
      expect(new MemoryVmRepository(limits({ actionDelayMs: 10_000 })).pollIntervalMs).toBe(50);
    });
  });

  describe('apply', () => {
    it('a guard that throws leaves the VM exactly as it was', async () => {
      const before = await repo.create(memberScope, input());
      clock.t += 1000;
      const refusal = new ApiError('PRECONDITION_FAILED', 'no');
      await expect(repo.apply(memberScope, before.vm.id, { action: 'start' }, () => { throw refusal; })).rejects.toBe(refusal);
      await expect(repo.apply(memberScope, before.vm.id, { action: 'delete' }, () => { throw refusal; })).rejects.toBe(refusal);
      await expect(repo.apply(memberScope, before.vm.id, { action: 'resize', flavor: large }, () => { throw refusal; })).rejects.toBe(refusal);
      expect(await repo.get(memberScope, before.vm.id)).toEqual(before);
    });

    it('the guard sees the current record', async () => {
      const created = await repo.create(memberScope, input());
      await repo.apply(memberScope, created.vm.id, { action: 'start' }, accept);
      const seen: VmRecord[] = [];
      await repo.apply(memberScope, created.vm.id, { action: 'stop' }, (current) => { seen.push(current); });
      expect(seen).toHaveLength(1);
      expect(seen[0]?.vm.status).toBe('RUNNING');
      expect(seen[0]?.version).toBe('2');
    });

    it('an unknown id is VM_NOT_FOUND and the guard is not called', async () => {
      const guard = vi.fn();
      const error = await caught(repo.apply(memberScope, 'nope', { action: 'start' }, guard));
      expect(error.code).toBe('VM_NOT_FOUND');
      expect(guard).not.toHaveBeenCalled();
    });

    const steps = (Object.keys(pathTo) as (keyof typeof pathTo)[]).flatMap((status) =>
      (Object.keys(transitions[status]) as VmAction[]).map((action) => ({ status, action })),
    );

    it.each(steps)('$action from $status moves the status to the table\'s next one and bumps version and updated_at', async ({ status, action }) => {
      const { vm } = await repo.create(memberScope, input());
      for (const step of pathTo[status]) await repo.apply(memberScope, vm.id, command(step), accept);
      const before = await must(repo, vm.id);
      expect(before.vm.status).toBe(status);
      clock.t += 5_000;
      const after = await repo.apply(memberScope, vm.id, command(action, tiny), accept);
      expect(after.vm.status).toBe(transitions[status][action]?.next);
      expect(after.vm.task).toBeNull();
      expect(Number(after.version)).toBe(Number(before.version) + 1);
      expect(after.vm.updated_at).toBe(iso(clock.t));
      expect(after.vm.created_at).toBe(before.vm.created_at);
      expect(await repo.get(memberScope, vm.id)).toEqual(after);
    });

    it('updated_at still moves forward when two changes happen in the same millisecond', async () => {
      const { vm } = await repo.create(memberScope, input());
      const started = await repo.apply(memberScope, vm.id, { action: 'start' }, accept);
      const stopped = await repo.apply(memberScope, vm.id, { action: 'stop' }, accept);
      expect(Date.parse(started.vm.updated_at)).toBeGreaterThan(T0);
      expect(Date.parse(stopped.vm.updated_at)).toBeGreaterThan(Date.parse(started.vm.updated_at));
    });

    it('a command the table does not allow is refused even if the guard lets it through', async () => {
      const { vm } = await repo.create(memberScope, input());
      const error = await caught(repo.apply(memberScope, vm.id, { action: 'pause' }, accept));
      expect(error.code).toBe('INVALID_STATE_TRANSITION');
      expect(error.extras.current_status).toBe('STOPPED');
      expect((await must(repo, vm.id)).version).toBe('1');
    });

    it('resize changes the flavor the VM shows', async () => {
      const { vm } = await repo.create(memberScope, input({ flavor: tiny }));
      const resized = await repo.apply(memberScope, vm.id, { action: 'resize', flavor: medium }, accept);
      expect(resized.vm.flavor).toBe('m1.medium');
      expect(resized.vm.status).toBe('STOPPED');
    });
  });

  describe('delete', () => {
    it('settles in DELETED at once with no address', async () => {
      const { vm } = await repo.create(memberScope, input({ start: true }));
      const deleted = await repo.apply(memberScope, vm.id, { action: 'delete' }, accept);
      expect(deleted.vm).toMatchObject({ status: 'DELETED', task: null, ip_address: null, fault: null });
      expect(deleted.version).toBe('2');
    });

    it('frees the address, which the next VM gets', async () => {
      repo = new MemoryVmRepository(limits({ ipCidr: '10.0.0.0/29' }), clock.now); // .2 to .6
      const a = await repo.create(memberScope, input({ name: 'a' }));
      const b = await repo.create(memberScope, input({ name: 'b' }));
      await repo.apply(memberScope, a.vm.id, { action: 'delete' }, accept);
      const c = await repo.create(memberScope, input({ name: 'c' }));
      expect(c.vm.ip_address).toBe(a.vm.ip_address);
      expect(c.vm.ip_address).not.toBe(b.vm.ip_address);
    });

    it('frees host capacity', async () => {
      repo = new MemoryVmRepository(limits({ capacityVcpus: 2 }), clock.now);
      const a = await repo.create(memberScope, input({ flavor: medium }));
      expect((await repo.create(memberScope, input({ flavor: tiny }))).vm.fault?.code).toBe('NO_VALID_HOST');
      await repo.apply(memberScope, a.vm.id, { action: 'delete' }, accept);
      const c = await repo.create(memberScope, input({ flavor: tiny }));
      expect(c.vm.status).toBe('STOPPED');
      expect(c.placed).toBe(true);
    });

    it('frees quota (instances, vCPUs and RAM)', async () => {
      for (const over of [{ quotaInstances: 1 }, { quotaVcpus: 2 }, { quotaRamMb: 4096 }]) {
        const r = new MemoryVmRepository(limits(over), clock.now);
        const a = await r.create(memberScope, input({ flavor: medium }));
        expect((await caught(r.create(memberScope, input({ flavor: tiny })))).code).toBe('QUOTA_EXCEEDED');
        await r.apply(memberScope, a.vm.id, { action: 'delete' }, accept);
        expect((await r.create(memberScope, input({ flavor: tiny }))).vm.status).toBe('STOPPED');
      }
    });

    it('a second delete that a permissive guard lets through does not free the quota a second time', async () => {
      repo = new MemoryVmRepository(limits({ quotaInstances: 1 }), clock.now);
      const a = await repo.create(memberScope, input({ name: 'a' }));
      await repo.apply(memberScope, a.vm.id, { action: 'delete' }, accept);
      // The service's guard refuses this; the repository must stay consistent if a guard does not.
      await repo.apply(memberScope, a.vm.id, { action: 'delete' }, accept).catch(() => undefined);
      await repo.create(memberScope, input({ name: 'b' }));
      const error = await caught(repo.create(memberScope, input({ name: 'c' })));
      expect(error.code).toBe('QUOTA_EXCEEDED');
    });
  });

  describe('tombstones', () => {
    it('a deleted VM answers DELETED until the retention has passed, then is gone', async () => {
      const { vm } = await repo.create(memberScope, input());
      await repo.apply(memberScope, vm.id, { action: 'delete' }, accept);
      clock.t += HOUR_MS - 1;
      expect((await repo.get(memberScope, vm.id))?.vm.status).toBe('DELETED');
      clock.t += 1;
      expect(await repo.get(memberScope, vm.id)).toBeUndefined();
    });

    it('an expired tombstone leaves the DELETED index (list and count)', async () => {
      const { vm } = await repo.create(memberScope, input());
      await repo.apply(memberScope, vm.id, { action: 'delete' }, accept);
      expect((await listAll(repo, ['DELETED'])).map((r) => r.vm.id)).toEqual([vm.id]);
      expect((await repo.countByStatus()).DELETED).toBe(1);
      clock.t += HOUR_MS;
      expect(await listAll(repo, ['DELETED'])).toEqual([]);
      expect((await repo.countByStatus()).DELETED).toBe(0);
    });

    it('tombstones expire in the order they were made, each after its own retention', async () => {
      const a = await repo.create(memberScope, input({ name: 'a' }));
      const b = await repo.create(memberScope, input({ name: 'b' }));
      await repo.apply(memberScope, a.vm.id, { action: 'delete' }, accept);
      clock.t += 10 * 60_000;
      await repo.apply(memberScope, b.vm.id, { action: 'delete' }, accept);
      clock.t += HOUR_MS - 10 * 60_000;
      expect(await repo.get(memberScope, a.vm.id)).toBeUndefined();
      expect((await repo.get(memberScope, b.vm.id))?.vm.status).toBe('DELETED');
      clock.t += 10 * 60_000;
      expect(await repo.get(memberScope, b.vm.id)).toBeUndefined();
    });

    it('thousands of expired tombstones are all forgotten (the queue compacts without losing any)', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 1500; i++) {
        const { vm } = await repo.create(memberScope, input({ name: `vm-${i}` }));
        await repo.apply(memberScope, vm.id, { action: 'delete' }, accept);
        ids.push(vm.id);
        clock.t += 1;
      }
      const survivor = await repo.create(memberScope, input({ name: 'survivor' }));
      await repo.apply(memberScope, survivor.vm.id, { action: 'delete' }, accept);
      clock.t += HOUR_MS - 1; // every one of the first 1500 is past its retention, the survivor is not
      expect((await repo.countByStatus()).DELETED).toBe(1);
      expect(await repo.get(memberScope, ids[0] as string)).toBeUndefined();
      expect(await repo.get(memberScope, ids[1499] as string)).toBeUndefined();
      expect((await repo.get(memberScope, survivor.vm.id))?.vm.status).toBe('DELETED');
      clock.t += HOUR_MS;
      expect(await repo.get(memberScope, survivor.vm.id)).toBeUndefined();
    });

    it('keeps at most maxTombstones: past it the oldest is forgotten before its retention ends', async () => {
      const capped = new MemoryVmRepository(limits({ maxTombstones: 2 }), clock.now);
      const ids: string[] = [];
      for (const name of ['a', 'b', 'c']) {
        const { vm } = await capped.create(memberScope, input({ name }));
        await capped.apply(memberScope, vm.id, { action: 'delete' }, accept);
        ids.push(vm.id);
      }
      expect(await capped.get(memberScope, ids[0] as string)).toBeUndefined();
      expect((await listAll(capped, ['DELETED'])).map((r) => r.vm.id)).toEqual(ids.slice(1));
      expect((await capped.countByStatus()).DELETED).toBe(2);
      // The cap and the retention both drop the oldest: the rest still expire on time.
      clock.t += HOUR_MS;
      expect((await capped.countByStatus()).DELETED).toBe(0);
    });

    it('takes both caps from MOCK_MAX_TOMBSTONES and MOCK_MAX_IDEMPOTENCY_KEYS', async () => {
      const backend = await createBackend(configFrom({ MOCK_MAX_TOMBSTONES: '1', MOCK_MAX_IDEMPOTENCY_KEYS: '1' }), pino({ level: 'silent' }));
      const ids: string[] = [];
      for (const key of ['k1', 'k2']) {
        const { vm } = await backend.vms.create(memberScope, input({ idempotency: { key, fingerprint: 'fp' } }));
        await backend.vms.apply(memberScope, vm.id, { action: 'delete' }, accept);
        ids.push(vm.id);
      }
      expect(await backend.vms.get(memberScope, ids[0] as string)).toBeUndefined();
      expect((await backend.vms.get(memberScope, ids[1] as string))?.vm.status).toBe('DELETED');
      expect(await backend.vms.findByIdempotencyKey(memberScope, 'k1')).toBeUndefined();
      expect(await backend.vms.findByIdempotencyKey(memberScope, 'k2')).toBeDefined();
      await backend.close();
    });

    it('with maxTombstones 0 forgets a deleted VM at once and leaves live VMs alone', async () => {
      const none = new MemoryVmRepository(limits({ maxTombstones: 0 }), clock.now);
      const kept = await none.create(memberScope, input({ name: 'kept' }));
      const { vm } = await none.create(memberScope, input({ name: 'gone' }));
      expect((await none.apply(memberScope, vm.id, { action: 'delete' }, accept)).vm.status).toBe('DELETED');
      expect(await none.get(memberScope, vm.id)).toBeUndefined();
      expect((await none.get(memberScope, kept.vm.id))?.vm.status).toBe('STOPPED');
    });

    it('past the cap, thousands of tombstones leave exactly the newest maxTombstones (the queue compacts without losing any)', async () => {
      const capped = new MemoryVmRepository(limits({ maxTombstones: 100 }), clock.now);
      const ids: string[] = [];
      for (let i = 0; i < 3000; i++) {
        const { vm } = await capped.create(memberScope, input({ name: `vm-${i}` }));
        await capped.apply(memberScope, vm.id, { action: 'delete' }, accept);
        ids.push(vm.id);
      }
      expect((await listAll(capped, ['DELETED'])).map((r) => r.vm.id)).toEqual(ids.slice(-100));
      expect(await capped.get(memberScope, ids[2899] as string)).toBeUndefined();
      expect((await capped.get(memberScope, ids[2900] as string))?.vm.status).toBe('DELETED');
    });
  });

  describe('capacity, quota and addresses', () => {
    it('a VM that no host can hold goes to ERROR with NO_VALID_HOST, unplaced and without an address', async () => {
      repo = new MemoryVmRepository(limits({ capacityVcpus: 1 }), clock.now);
      const record = await repo.create(memberScope, input({ flavor: medium, start: true }));
      expect(record.vm.status).toBe('ERROR');
      expect(record.vm.task).toBeNull();
      expect(record.placed).toBe(false);
      expect(record.vm.ip_address).toBeNull();
      expect(record.vm.fault).toEqual({ code: 'NO_VALID_HOST', message: expect.stringContaining('m1.medium'), at: iso(T0) });
    });

    it('RAM counts as well as vCPUs for host capacity', async () => {
      repo = new MemoryVmRepository(limits({ capacityRamMb: 4096 }), clock.now);
      expect((await repo.create(memberScope, input({ flavor: medium }))).vm.status).toBe('STOPPED');
      expect((await repo.create(memberScope, input({ flavor: tiny }))).vm.fault?.code).toBe('NO_VALID_HOST');
    });

    it('a VM that filled the host exactly is placed', async () => {
      repo = new MemoryVmRepository(limits({ capacityVcpus: 3 }), clock.now);
      await repo.create(memberScope, input({ flavor: tiny }));
      expect((await repo.create(memberScope, input({ flavor: medium }))).placed).toBe(true);
    });

    it('an unplaced ERROR VM takes no host room', async () => {
      repo = new MemoryVmRepository(limits({ capacityVcpus: 2 }), clock.now);
      await repo.create(memberScope, input({ flavor: large })); // ERROR
      expect((await repo.create(memberScope, input({ flavor: medium }))).placed).toBe(true);
    });

    it.each([
      ['instances', { quotaInstances: 1 }],
      ['vcpus', { quotaVcpus: 2 }],
      ['ram_mb', { quotaRamMb: 1024 }],
    ] as const)('exceeding the %s quota throws QUOTA_EXCEEDED and creates nothing', async (what, over) => {
      repo = new MemoryVmRepository(limits(over), clock.now);
      await repo.create(memberScope, input({ flavor: tiny }));
      const countsBefore = await repo.countByStatus();
      const error = await caught(repo.create(memberScope, input({ name: 'too-many', flavor: medium })));
      expect(error.code).toBe('QUOTA_EXCEEDED');
      expect(error.detail).toContain(what);
      expect(await repo.countByStatus()).toEqual(countsBefore);
      expect((await listAll(repo)).map((r) => r.vm.name)).toEqual(['vm']);
    });

    it('a quota of -1 is unlimited and 0 refuses everything', async () => {
      const unlimited = new MemoryVmRepository(limits({ quotaInstances: -1 }), clock.now);
      for (let i = 0; i < 5; i++) await unlimited.create(memberScope, input());
      const none = new MemoryVmRepository(limits({ quotaInstances: 0 }), clock.now);
      expect((await caught(none.create(memberScope, input()))).code).toBe('QUOTA_EXCEEDED');
    });

    it('an unplaced ERROR VM still counts against the instance quota until deleted', async () => {
      repo = new MemoryVmRepository(limits({ capacityVcpus: 1, quotaInstances: 1 }), clock.now);
      const failed = await repo.create(memberScope, input({ flavor: medium }));
      expect(failed.vm.status).toBe('ERROR');
      expect((await caught(repo.create(memberScope, input()))).code).toBe('QUOTA_EXCEEDED');
      await repo.apply(memberScope, failed.vm.id, { action: 'delete' }, accept);
      expect((await repo.create(memberScope, input())).placed).toBe(true);
    });

    it('when the address pool is used up a new VM goes to ERROR with NO_IP_AVAILABLE and takes no host room', async () => {
      repo = new MemoryVmRepository(limits({ ipCidr: '10.0.0.0/30', capacityVcpus: 2 }), clock.now); // one address
      const a = await repo.create(memberScope, input({ flavor: tiny }));
      const b = await repo.create(memberScope, input({ flavor: tiny }));
      expect(b.vm.status).toBe('ERROR');
      expect(b.vm.fault?.code).toBe('NO_IP_AVAILABLE');
      expect(b.vm.fault?.message).toContain('10.0.0.0/30');
      expect(b.placed).toBe(false);
      expect(b.vm.ip_address).toBeNull();
      await repo.apply(memberScope, a.vm.id, { action: 'delete' }, accept);
      // b took no host room: a medium (2 vCPUs) fits once a is gone.
      const c = await repo.create(memberScope, input({ flavor: medium }));
      expect(c.placed).toBe(true);
      expect(c.vm.ip_address).toBe(a.vm.ip_address);
    });
  });

  describe('resize', () => {
    it('moves the host usage to the new flavor (up, then down again)', async () => {
      repo = new MemoryVmRepository(limits({ capacityVcpus: 5 }), clock.now);
      const a = await repo.create(memberScope, input({ flavor: tiny }));
      await repo.apply(memberScope, a.vm.id, { action: 'resize', flavor: large }, accept); // 4 of 5 used
      expect((await repo.create(memberScope, input({ flavor: medium }))).vm.fault?.code).toBe('NO_VALID_HOST');
      await repo.apply(memberScope, a.vm.id, { action: 'resize', flavor: tiny }, accept); // 1 of 5 used (+0 for the ERROR one)
      expect((await repo.create(memberScope, input({ flavor: medium }))).placed).toBe(true);
    });

    it('moves the quota usage to the new flavor', async () => {
      repo = new MemoryVmRepository(limits({ quotaVcpus: 5 }), clock.now);
      const a = await repo.create(memberScope, input({ flavor: tiny }));
      await repo.apply(memberScope, a.vm.id, { action: 'resize', flavor: large }, accept);
      expect((await caught(repo.create(memberScope, input({ flavor: medium })))).code).toBe('QUOTA_EXCEEDED');
      await repo.apply(memberScope, a.vm.id, { action: 'resize', flavor: tiny }, accept);
      expect((await repo.create(memberScope, input({ flavor: medium }))).placed).toBe(true);
    });

    it('throws INSUFFICIENT_CAPACITY when the new flavor does not fit on the host, and changes nothing', async () => {
      repo = new MemoryVmRepository(limits({ capacityVcpus: 4 }), clock.now);
      const a = await repo.create(memberScope, input({ flavor: tiny }));
      await repo.create(memberScope, input({ flavor: tiny }));
      const error = await caught(repo.apply(memberScope, a.vm.id, { action: 'resize', flavor: large }, accept));
      expect(error.code).toBe('INSUFFICIENT_CAPACITY');
      expect(await repo.get(memberScope, a.vm.id)).toEqual(a);
    });

    it('throws QUOTA_EXCEEDED when the new flavor is over the quota, and changes nothing', async () => {
      repo = new MemoryVmRepository(limits({ quotaRamMb: 4096 }), clock.now);
      const a = await repo.create(memberScope, input({ flavor: tiny }));
      const error = await caught(repo.apply(memberScope, a.vm.id, { action: 'resize', flavor: large }, accept));
      expect(error.code).toBe('QUOTA_EXCEEDED');
      expect(await repo.get(memberScope, a.vm.id)).toEqual(a);
    });

    it('resizing down is accepted even when the project is already at its quota', async () => {
      repo = new MemoryVmRepository(limits({ quotaVcpus: 2 }), clock.now);
      const a = await repo.create(memberScope, input({ flavor: medium }));
      const resized = await repo.apply(memberScope, a.vm.id, { action: 'resize', flavor: tiny }, accept);
      expect(resized.vm.flavor).toBe('m1.tiny');
    });

    it('deleting a resized VM frees the new flavor\'s room, not the old one\'s', async () => {
      repo = new MemoryVmRepository(limits({ capacityVcpus: 4 }), clock.now);
      const a = await repo.create(memberScope, input({ flavor: tiny }));
      await repo.apply(memberScope, a.vm.id, { action: 'resize', flavor: large }, accept);
      await repo.apply(memberScope, a.vm.id, { action: 'delete' }, accept);
      expect((await repo.create(memberScope, input({ flavor: large }))).placed).toBe(true);
    });
  });

  describe('list', () => {
    async function createMany(n: number, prefix = 'vm') {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) ids.push((await repo.create(memberScope, input({ name: `${prefix}-${i}`, start: i % 2 === 0 }))).vm.id);
      return ids;
    }

    /** `between` runs after every page that has a next one. */
    async function pageThrough(limit: number, statuses: readonly VmStatus[] = vmStatuses, between?: (page: number) => Promise<void>) {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await repo.list(memberScope, { statuses, limit, ...(cursor !== undefined && { cursor }) });
        expect(page.items.length).toBeLessThanOrEqual(limit);
        seen.push(...page.items.map((r) => r.vm.id));
        cursor = page.nextCursor ?? undefined;
        pages += 1;
        // A cursor that does not advance would page forever (and microtasks never let the test time out).
        if (pages > 1_000) throw new Error('paging does not end');
        if (between && cursor !== undefined) await between(pages);
      } while (cursor !== undefined);
      return { seen, pages };
    }

    it('pages with limit and cursor return every VM exactly once, in creation order', async () => {
      const ids = await createMany(7);
      const { seen, pages } = await pageThrough(3);
      expect(seen).toEqual(ids);
      expect(pages).toBe(3);
    });

    it('a page that ends exactly at the last VM has no next cursor', async () => {
      await createMany(6);
      const first = await repo.list(memberScope, { statuses: vmStatuses, limit: 3 });
      expect(first.nextCursor).not.toBeNull();
      const second = await repo.list(memberScope, { statuses: vmStatuses, limit: 3, cursor: first.nextCursor as string });
      expect(second.items).toHaveLength(3);
      expect(second.nextCursor).toBeNull();
    });

    it('an empty store lists nothing and no cursor', async () => {
      expect(await repo.list(memberScope, { statuses: vmStatuses, limit: 10 })).toEqual({ items: [], nextCursor: null });
    });

    it('VMs created between pages appear at the end, none repeated or skipped', async () => {
      const ids = await createMany(5);
      const added: string[] = [];
      const { seen } = await pageThrough(2, vmStatuses, async (page) => {
        if (page <= 2) added.push((await repo.create(memberScope, input({ name: `late-${page}` }))).vm.id);
      });
      expect(seen).toEqual([...ids, ...added]);
    });

    it('a VM that changes status between pages is listed once, and one deleted before its page is left out', async () => {
      const ids = await createMany(6);
      const live = vmStatuses.filter((s) => s !== 'DELETED');
      const { seen } = await pageThrough(2, live, async (page) => {
        if (page === 1) {
          await repo.apply(memberScope, ids[0] as string, { action: 'stop' }, accept); // already seen: RUNNING -> STOPPED
          await repo.apply(memberScope, ids[3] as string, { action: 'start' }, accept); // not yet seen: STOPPED -> RUNNING
          await repo.apply(memberScope, ids[4] as string, { action: 'delete' }, accept); // not yet seen, now DELETED
        }
      });
      expect(seen).toEqual(ids.filter((_, i) => i !== 4));
    });

    it('paging any number of VMs with any limit, with VMs added between pages, yields each exactly once', async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 12 }), fc.array(fc.nat({ max: 3 }), { maxLength: 10 }), async (n, limit, adds) => {
          repo = new MemoryVmRepository(limits(), clock.now);
          const expected = await createMany(n);
          const { seen } = await pageThrough(limit, vmStatuses, async (page) => {
            for (let i = 0; i < (adds[page - 1] ?? 0); i++) expected.push((await repo.create(memberScope, input({ name: 'added' }))).vm.id);
          });
          expect(seen).toEqual(expected);
        }),
        { numRuns: 60 },
      );
    });

    it('several statuses are merged in creation order, whatever order they are asked in', async () => {
      const ids = await createMany(6); // even ones RUNNING, odd ones STOPPED
      await repo.apply(memberScope, ids[5] as string, { action: 'start' }, accept);
      await repo.apply(memberScope, ids[5] as string, { action: 'pause' }, accept);
      const all = await listAll(repo, ['PAUSED', 'STOPPED', 'RUNNING']);
      expect(all.map((r) => r.vm.id)).toEqual(ids);
      expect((await listAll(repo, ['RUNNING'])).map((r) => r.vm.id)).toEqual([ids[0], ids[2], ids[4]]);
      expect((await listAll(repo, ['STOPPED', 'PAUSED'])).map((r) => r.vm.id)).toEqual([ids[1], ids[3], ids[5]]);
    });

    it('a VM that goes back to a status it left is listed in its creation place', async () => {
      const ids = await createMany(3); // RUNNING, STOPPED, RUNNING
      await repo.apply(memberScope, ids[0] as string, { action: 'stop' }, accept);
      expect((await listAll(repo, ['STOPPED'])).map((r) => r.vm.id)).toEqual([ids[0], ids[1]]);
    });

    it('filters by exact name, and by prefix', async () => {
      for (const name of ['web-1', 'web-10', 'db-1', 'web-2']) await repo.create(memberScope, input({ name }));
      const names = async (filter: { value: string; prefix: boolean }) =>
        (await repo.list(memberScope, { statuses: vmStatuses, limit: 100, name: filter })).items.map((r) => r.vm.name);
      expect(await names({ value: 'web-1', prefix: false })).toEqual(['web-1']);
      expect(await names({ value: 'web-1', prefix: true })).toEqual(['web-1', 'web-10']);
      expect(await names({ value: 'web-', prefix: true })).toEqual(['web-1', 'web-10', 'web-2']);
      expect(await names({ value: 'web', prefix: false })).toEqual([]);
    });

    it('a name filter pages without gaps and ends without a dangling cursor', async () => {
      for (let i = 0; i < 6; i++) await repo.create(memberScope, input({ name: i % 2 === 0 ? `a-${i}` : `b-${i}` }));
      const first = await repo.list(memberScope, { statuses: vmStatuses, limit: 2, name: { value: 'a-', prefix: true } });
      expect(first.items.map((r) => r.vm.name)).toEqual(['a-0', 'a-2']);
      const second = await repo.list(memberScope, { statuses: vmStatuses, limit: 2, name: { value: 'a-', prefix: true }, cursor: first.nextCursor as string });
      expect(second.items.map((r) => r.vm.name)).toEqual(['a-4']);
      expect(second.nextCursor).toBeNull();
    });

    it.each([
      ['not base64 at all', '!!!'],
      ['another prefix', Buffer.from('x1:5').toString('base64url')],
      ['a seq of 0', Buffer.from('m1:0').toString('base64url')],
      ['a negative seq', Buffer.from('m1:-3').toString('base64url')],
      ['a fractional seq', Buffer.from('m1:1.5').toString('base64url')],
      ['no seq', Buffer.from('m1:').toString('base64url')],
      ['letters', Buffer.from('m1:abc').toString('base64url')],
    ])('a bad cursor (%s) is VALIDATION_ERROR on cursor', async (_what, cursor) => {
      const error = await caught(repo.list(memberScope, { statuses: vmStatuses, limit: 10, cursor }));
      expect(error.code).toBe('VALIDATION_ERROR');
      expect(error.extras.errors?.map((e) => e.path)).toEqual(['cursor']);
    });
  });

  it('countByStatus counts every status, zero included', async () => {
    const a = await repo.create(memberScope, input({ start: true }));
    await repo.create(memberScope, input({ start: true }));
    await repo.create(memberScope, input());
    await repo.apply(memberScope, a.vm.id, { action: 'pause' }, accept);
    const failed = new MemoryVmRepository(limits({ capacityVcpus: 1 }), clock.now);
    await failed.create(memberScope, input({ flavor: medium }));
    expect(await repo.countByStatus()).toEqual({ STOPPED: 1, RUNNING: 1, PAUSED: 1, SUSPENDED: 0, DELETED: 0, ERROR: 0 });
    expect(await failed.countByStatus()).toEqual({ STOPPED: 0, RUNNING: 0, PAUSED: 0, SUSPENDED: 0, DELETED: 0, ERROR: 1 });
  });

  describe('findByIdempotencyKey', () => {
    it('returns the VM created with the key and the fingerprint it was created with', async () => {
      const created = await repo.create(memberScope, input({ idempotency: { key: 'k1', fingerprint: 'fp-1' } }));
      expect(await repo.findByIdempotencyKey(memberScope, 'k1')).toEqual({ record: created, fingerprint: 'fp-1' });
      expect(await repo.findByIdempotencyKey(memberScope, 'k2')).toBeUndefined();
    });

    it('returns the VM as it is now, not as it was created', async () => {
      const created = await repo.create(memberScope, input({ idempotency: { key: 'k1', fingerprint: 'fp' } }));
      await repo.apply(memberScope, created.vm.id, { action: 'start' }, accept);
      expect((await repo.findByIdempotencyKey(memberScope, 'k1'))?.record.vm.status).toBe('RUNNING');
    });

    it('keeps a key for 24 hours and forgets it after', async () => {
      await repo.create(memberScope, input({ idempotency: { key: 'k1', fingerprint: 'fp' } }));
      clock.t += DAY_MS - 1;
      expect(await repo.findByIdempotencyKey(memberScope, 'k1')).toBeDefined();
      clock.t += 1;
      expect(await repo.findByIdempotencyKey(memberScope, 'k1')).toBeUndefined();
    });

    it('forgets each key 24 hours after its own use', async () => {
      await repo.create(memberScope, input({ idempotency: { key: 'early', fingerprint: 'fp' } }));
      clock.t += HOUR_MS;
      await repo.create(memberScope, input({ idempotency: { key: 'late', fingerprint: 'fp' } }));
      clock.t += DAY_MS - HOUR_MS;
      expect(await repo.findByIdempotencyKey(memberScope, 'early')).toBeUndefined();
      expect(await repo.findByIdempotencyKey(memberScope, 'late')).toBeDefined();
    });

    it('a key whose VM is gone for good finds nothing', async () => {
      const created = await repo.create(memberScope, input({ idempotency: { key: 'k1', fingerprint: 'fp' } }));
      await repo.apply(memberScope, created.vm.id, { action: 'delete' }, accept);
      expect((await repo.findByIdempotencyKey(memberScope, 'k1'))?.record.vm.status).toBe('DELETED');
      clock.t += HOUR_MS;
      expect(await repo.findByIdempotencyKey(memberScope, 'k1')).toBeUndefined();
    });

    it('a key used again after its VM is gone does not keep later keys alive past 24 hours', async () => {
      const first = await repo.create(memberScope, input({ idempotency: { key: 'reused', fingerprint: 'fp' } }));
      clock.t += 1;
      await repo.create(memberScope, input({ idempotency: { key: 'other', fingerprint: 'fp' } }));
      await repo.apply(memberScope, first.vm.id, { action: 'delete' }, accept);
      clock.t += 2 * HOUR_MS; // the tombstone is gone, so the key finds nothing and may be used again
      expect(await repo.findByIdempotencyKey(memberScope, 'reused')).toBeUndefined();
      await repo.create(memberScope, input({ idempotency: { key: 'reused', fingerprint: 'fp' } }));
      clock.t = T0 + 1 + DAY_MS; // 'other' is exactly 24 h old
      expect(await repo.findByIdempotencyKey(memberScope, 'other')).toBeUndefined();
      expect(await repo.findByIdempotencyKey(memberScope, 'reused')).toBeDefined();
    });

    it('keeps at most maxIdempotencyKeys: past it the oldest key is forgotten before its 24 hours', async () => {
      const capped = new MemoryVmRepository(limits({ maxIdempotencyKeys: 2 }), clock.now);
      for (const key of ['k1', 'k2', 'k3']) await capped.create(memberScope, input({ idempotency: { key, fingerprint: 'fp' } }));
      expect(await capped.findByIdempotencyKey(memberScope, 'k1')).toBeUndefined();
      expect(await capped.findByIdempotencyKey(memberScope, 'k2')).toBeDefined();
      expect(await capped.findByIdempotencyKey(memberScope, 'k3')).toBeDefined();
    });

    it('a key used again thousands of times keeps the cap dropping the least recently used key', async () => {
      const capped = new MemoryVmRepository(limits({ maxIdempotencyKeys: 2, maxTombstones: 0 }), clock.now);
      await capped.create(memberScope, input({ idempotency: { key: 'old', fingerprint: 'fp' } }));
      for (let i = 0; i < 3000; i++) {
        clock.t += 1;
        const { vm } = await capped.create(memberScope, input({ idempotency: { key: 'reused', fingerprint: `fp-${i}` } }));
        await capped.apply(memberScope, vm.id, { action: 'delete' }, accept); // forgotten at once: the key is free again
      }
      const latest = await capped.create(memberScope, input({ idempotency: { key: 'reused', fingerprint: 'last' } }));
      expect(await capped.findByIdempotencyKey(memberScope, 'old')).toBeDefined();
      await capped.create(memberScope, input({ idempotency: { key: 'new', fingerprint: 'fp' } }));
      expect(await capped.findByIdempotencyKey(memberScope, 'old')).toBeUndefined();
      expect(await capped.findByIdempotencyKey(memberScope, 'reused')).toMatchObject({ record: { vm: { id: latest.vm.id } }, fingerprint: 'last' });
      expect(await capped.findByIdempotencyKey(memberScope, 'new')).toBeDefined();
    });

    it('a key used again moves to the newest end, so the cap drops the other one', async () => {
      const capped = new MemoryVmRepository(limits({ maxIdempotencyKeys: 2 }), clock.now);
      const first = await capped.create(memberScope, input({ idempotency: { key: 'reused', fingerprint: 'fp' } }));
      await capped.create(memberScope, input({ idempotency: { key: 'other', fingerprint: 'fp' } }));
      await capped.apply(memberScope, first.vm.id, { action: 'delete' }, accept);
      clock.t += HOUR_MS; // the first VM is forgotten, so the key is free again
      const again = await capped.create(memberScope, input({ idempotency: { key: 'reused', fingerprint: 'fp-2' } }));
      await capped.create(memberScope, input({ idempotency: { key: 'third', fingerprint: 'fp' } }));
      expect(await capped.findByIdempotencyKey(memberScope, 'other')).toBeUndefined();
      expect(await capped.findByIdempotencyKey(memberScope, 'reused')).toMatchObject({ record: { vm: { id: again.vm.id } }, fingerprint: 'fp-2' });
    });
  });

  describe('onSettled', () => {
    it('tells every listener about a create and each action: the VM, the status before and the task', async () => {
      const events: unknown[] = [];
      const more: unknown[] = [];
      repo.onSettled((e) => events.push(e));
      repo.onSettled((e) => more.push(e));
      const { vm } = await repo.create(memberScope, input({ start: true }));
      await repo.apply(memberScope, vm.id, { action: 'pause' }, accept);
      await repo.apply(memberScope, vm.id, { action: 'delete' }, accept);
      expect(events).toEqual([
        { vm: expect.objectContaining({ id: vm.id, status: 'RUNNING', task: null }), previous: 'STOPPED', task: 'creating' },
        { vm: expect.objectContaining({ id: vm.id, status: 'PAUSED' }), previous: 'RUNNING', task: 'pausing' },
        { vm: expect.objectContaining({ id: vm.id, status: 'DELETED' }), previous: 'PAUSED', task: 'deleting' },
      ]);
      expect(more).toEqual(events);
    });

    it('reports the fault of a VM that failed', async () => {
      repo = new MemoryVmRepository(limits({ capacityVcpus: 1 }), clock.now);
      const listener = vi.fn();
      repo.onSettled(listener);
      await repo.create(memberScope, input({ flavor: medium }));
      expect(listener).toHaveBeenCalledWith(
        expect.objectContaining({ vm: expect.objectContaining({ status: 'ERROR', fault: expect.objectContaining({ code: 'NO_VALID_HOST' }) }) }),
      );
    });

    it('a refused command tells no listener', async () => {
      const { vm } = await repo.create(memberScope, input());
      const listener = vi.fn();
      repo.onSettled(listener);
      await repo.apply(memberScope, vm.id, { action: 'start' }, () => { throw new ApiError('PRECONDITION_FAILED', 'no'); }).catch(() => undefined);
      expect(listener).not.toHaveBeenCalled();
    });
  });
});

describe('MemoryVmRepository, settling after a delay', () => {
  const DELAY = 1_000;
  let repo: MemoryVmRepository;

  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
    repo = new MemoryVmRepository(limits({ actionDelayMs: DELAY }), () => Date.now());
  });
  afterEach(() => {
    repo.close();
    vi.useRealTimers();
  });

  it('create shows the task creating in STOPPED, then settles after the delay', async () => {
    const created = await repo.create(memberScope, input({ start: true }));
    expect(created.vm).toMatchObject({ status: 'STOPPED', task: 'creating' });
    vi.advanceTimersByTime(DELAY - 1);
    expect((await must(repo, created.vm.id)).vm.task).toBe('creating');
    vi.advanceTimersByTime(1);
    const settled = await must(repo, created.vm.id);
    expect(settled.vm).toMatchObject({ status: 'RUNNING', task: null, updated_at: iso(T0 + DELAY) });
    expect(Number(settled.version)).toBeGreaterThan(Number(created.version));
  });

  it('a creating VM is listed under the status it shows (STOPPED) and moves when it settles', async () => {
    const created = await repo.create(memberScope, input({ start: true }));
    expect((await listAll(repo, ['STOPPED'])).map((r) => r.vm.id)).toEqual([created.vm.id]);
    vi.advanceTimersByTime(DELAY);
    expect(await listAll(repo, ['STOPPED'])).toEqual([]);
    expect((await listAll(repo, ['RUNNING'])).map((r) => r.vm.id)).toEqual([created.vm.id]);
  });

  it('an action shows its task, keeps the old status, bumps the version, then settles', async () => {
    const { vm } = await repo.create(memberScope, input());
    vi.advanceTimersByTime(DELAY);
    const before = await must(repo, vm.id);
    const accepted = await repo.apply(memberScope, vm.id, { action: 'start' }, accept);
    expect(accepted.vm).toMatchObject({ status: 'STOPPED', task: 'starting' });
    expect(Number(accepted.version)).toBe(Number(before.version) + 1);
    vi.advanceTimersByTime(DELAY);
    const settled = await must(repo, vm.id);
    expect(settled.vm).toMatchObject({ status: 'RUNNING', task: null });
    expect(Number(settled.version)).toBe(Number(accepted.version) + 1);
  });

  it('a resize shows the old flavor until it settles', async () => {
    const { vm } = await repo.create(memberScope, input({ flavor: tiny }));
    vi.advanceTimersByTime(DELAY);
    expect((await repo.apply(memberScope, vm.id, { action: 'resize', flavor: medium }, accept)).vm.flavor).toBe('m1.tiny');
    vi.advanceTimersByTime(DELAY);
    expect((await must(repo, vm.id)).vm.flavor).toBe('m1.medium');
  });

  it('delete during a task replaces it: the VM shows deleting and ends DELETED, never the first task\'s status', async () => {
    const { vm } = await repo.create(memberScope, input());
    vi.advanceTimersByTime(DELAY);
    await repo.apply(memberScope, vm.id, { action: 'start' }, accept);
    vi.advanceTimersByTime(DELAY / 2);
    expect((await repo.apply(memberScope, vm.id, { action: 'delete' }, accept)).vm.task).toBe('deleting');
    vi.advanceTimersByTime(DELAY / 2);
    expect((await must(repo, vm.id)).vm).toMatchObject({ status: 'STOPPED', task: 'deleting' });
    vi.advanceTimersByTime(DELAY / 2);
    expect((await must(repo, vm.id)).vm).toMatchObject({ status: 'DELETED', task: null, ip_address: null });
  });

  it('a second delete while deleting changes nothing', async () => {
    const { vm } = await repo.create(memberScope, input());
    vi.advanceTimersByTime(DELAY);
    const first = await repo.apply(memberScope, vm.id, { action: 'delete' }, accept);
    const second = await repo.apply(memberScope, vm.id, { action: 'delete' }, accept);
    expect(second).toEqual(first);
    vi.advanceTimersByTime(DELAY);
    expect((await must(repo, vm.id)).vm.status).toBe('DELETED');
  });

  it('the address of a VM being deleted is freed only when it settles', async () => {
    repo = new MemoryVmRepository(limits({ actionDelayMs: DELAY, ipCidr: '10.0.0.0/30' }), () => Date.now());
    const a = await repo.create(memberScope, input());
    vi.advanceTimersByTime(DELAY);
    await repo.apply(memberScope, a.vm.id, { action: 'delete' }, accept);
    const b = await repo.create(memberScope, input());
    vi.advanceTimersByTime(DELAY);
    expect((await must(repo, b.vm.id)).vm.fault?.code).toBe('NO_IP_AVAILABLE');
    const c = await repo.create(memberScope, input());
    vi.advanceTimersByTime(DELAY);
    expect((await must(repo, c.vm.id)).vm.ip_address).toBe(a.vm.ip_address);
  });

  it('a VM no host can hold shows creating, settles in ERROR, and is then deleted at once with no task', async () => {
    repo = new MemoryVmRepository(limits({ actionDelayMs: DELAY, capacityVcpus: 1 }), () => Date.now());
    const created = await repo.create(memberScope, input({ flavor: medium }));
    expect(created.vm).toMatchObject({ status: 'STOPPED', task: 'creating', fault: null });
    vi.advanceTimersByTime(DELAY);
    const failed = await must(repo, created.vm.id);
    expect(failed.vm).toMatchObject({ status: 'ERROR', task: null, fault: expect.objectContaining({ code: 'NO_VALID_HOST' }) });
    expect(failed.placed).toBe(false);
    const deleted = await repo.apply(memberScope, created.vm.id, { action: 'delete' }, accept);
    expect(deleted.vm).toMatchObject({ status: 'DELETED', task: null });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a VM that will fail may be deleted while still creating, at once, and never shows ERROR', async () => {
    repo = new MemoryVmRepository(limits({ actionDelayMs: DELAY, capacityVcpus: 1 }), () => Date.now());
    const listener = vi.fn();
    repo.onSettled(listener);
    const created = await repo.create(memberScope, input({ flavor: medium }));
    const deleted = await repo.apply(memberScope, created.vm.id, { action: 'delete' }, accept);
    expect(deleted.vm).toMatchObject({ status: 'DELETED', task: null });
    vi.advanceTimersByTime(DELAY * 2);
    expect((await must(repo, created.vm.id)).vm.status).toBe('DELETED');
    expect(listener).toHaveBeenCalledTimes(1);
  });

  it('onSettled hears of a task only when it settles', async () => {
    const listener = vi.fn();
    repo.onSettled(listener);
    const { vm } = await repo.create(memberScope, input());
    expect(listener).not.toHaveBeenCalled();
    vi.advanceTimersByTime(DELAY);
    expect(listener).toHaveBeenCalledWith({ vm: expect.objectContaining({ id: vm.id, status: 'STOPPED', task: null }), previous: 'STOPPED', task: 'creating' });
  });

  it('capacity is taken when a create is accepted, so concurrent creates cannot overbook the host', async () => {
    repo = new MemoryVmRepository(limits({ actionDelayMs: DELAY, capacityVcpus: 3 }), () => Date.now());
    const a = await repo.create(memberScope, input({ flavor: medium }));
    const b = await repo.create(memberScope, input({ flavor: medium }));
    vi.advanceTimersByTime(DELAY);
    expect((await must(repo, a.vm.id)).vm.status).toBe('STOPPED');
    expect((await must(repo, b.vm.id)).vm.fault?.code).toBe('NO_VALID_HOST');
  });

  it('two resizes accepted at the same time cannot together overbook the host', async () => {
    repo = new MemoryVmRepository(limits({ actionDelayMs: DELAY, capacityVcpus: 6 }), () => Date.now());
    const a = await repo.create(memberScope, input({ flavor: tiny }));
    const b = await repo.create(memberScope, input({ flavor: tiny }));
    vi.advanceTimersByTime(DELAY); // 2 of 6 vCPUs used
    await repo.apply(memberScope, a.vm.id, { action: 'resize', flavor: large }, accept); // +3: 5 of 6
    const error = await caught(repo.apply(memberScope, b.vm.id, { action: 'resize', flavor: large }, accept)); // +3 would be 8 of 6
    expect(error.code).toBe('INSUFFICIENT_CAPACITY');
  });

  it('two resizes accepted at the same time cannot together exceed the quota', async () => {
    repo = new MemoryVmRepository(limits({ actionDelayMs: DELAY, quotaVcpus: 6 }), () => Date.now());
    const a = await repo.create(memberScope, input({ flavor: tiny }));
    const b = await repo.create(memberScope, input({ flavor: tiny }));
    vi.advanceTimersByTime(DELAY);
    await repo.apply(memberScope, a.vm.id, { action: 'resize', flavor: large }, accept);
    const error = await caught(repo.apply(memberScope, b.vm.id, { action: 'resize', flavor: large }, accept));
    expect(error.code).toBe('QUOTA_EXCEEDED');
  });

  it('a resize in progress holds its new room: a create meanwhile cannot take it', async () => {
    repo = new MemoryVmRepository(limits({ actionDelayMs: DELAY, capacityVcpus: 5 }), () => Date.now());
    const a = await repo.create(memberScope, input({ flavor: tiny }));
    vi.advanceTimersByTime(DELAY);
    await repo.apply(memberScope, a.vm.id, { action: 'resize', flavor: large }, accept); // holds 4 of 5 from now
    const b = await repo.create(memberScope, input({ flavor: medium }));
    vi.advanceTimersByTime(DELAY);
    expect((await must(repo, b.vm.id)).vm.fault?.code).toBe('NO_VALID_HOST');
  });

  it('deleting a VM in the middle of a resize frees everything the resize held', async () => {
    repo = new MemoryVmRepository(limits({ actionDelayMs: DELAY, capacityVcpus: 4, quotaVcpus: 4 }), () => Date.now());
    const a = await repo.create(memberScope, input({ flavor: tiny }));
    vi.advanceTimersByTime(DELAY);
    await repo.apply(memberScope, a.vm.id, { action: 'resize', flavor: large }, accept);
    await repo.apply(memberScope, a.vm.id, { action: 'delete' }, accept);
    vi.advanceTimersByTime(DELAY);
    const deleted = await must(repo, a.vm.id);
    expect(deleted.vm).toMatchObject({ status: 'DELETED', flavor: 'm1.tiny' });
    const b = await repo.create(memberScope, input({ flavor: large }));
    vi.advanceTimersByTime(DELAY);
    expect((await must(repo, b.vm.id)).vm).toMatchObject({ status: 'STOPPED', fault: null });
  });

  it('close() clears every pending timer, so nothing settles afterwards', async () => {
    const created = await repo.create(memberScope, input());
    const other = await repo.create(memberScope, input());
    expect(vi.getTimerCount()).toBe(2);
    repo.close();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(DELAY * 10);
    expect((await must(repo, created.vm.id)).vm.task).toBe('creating');
    expect((await must(repo, other.vm.id)).vm.task).toBe('creating');
  });
});
