import type { Scope } from '../../src/domain/tenancy.js';
import { memberScope } from '../support/scopes.js';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { seedFlavors, seedImages } from '../../src/backends/memory/catalog.js';
import { createMemoryBackend, type MemoryLimits } from '../../src/backends/memory/memory-backend.js';
import type { CreateVmInput, VmRecord, VmRepository } from '../../src/repository/vm-repository.js';
import type { Backend } from '../../src/repository/backend.js';
import { ApiError, isApiError } from '../../src/domain/errors.js';
import { VmService, type CreateVmRequest } from '../../src/service/vm-service.js';
import type { Flavor } from '../../src/domain/vm.js';
import { memoryLimits } from '../support/memory-limits.js';
import { caught } from '../support/caught.js';

interface LogLine {
  level: number;
  msg: string;
  event?: string;
  vm_id?: string;
  previous_status?: string;
  status?: string;
  task?: string;
  fault?: { code: string };
  [key: string]: unknown;
}

const limits = memoryLimits;

const backends: Backend[] = [];
afterEach(async () => {
  for (const backend of backends.splice(0)) await backend.close();
});

/** A service on a real memory backend, logging JSON lines into `lines`. */
function setup(over: Partial<MemoryLimits> = {}, options: { wrap?: (vms: VmRepository) => VmRepository; shutdown?: AbortSignal } = {}) {
  const backend = createMemoryBackend(limits(over));
  backends.push(backend);
  const lines: LogLine[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => { lines.push(JSON.parse(line) as LogLine); } });
  const vms = options.wrap ? options.wrap(backend.vms) : backend.vms;
  const service = new VmService({ vms, catalog: backend.catalog }, logger, options.shutdown ?? new AbortController().signal);
  const events = (event: string) => lines.filter((l) => l.event === event);
  return { service, backend, lines, events };
}

const body = (over: Partial<CreateVmRequest> = {}): CreateVmRequest => ({ name: 'web-1', flavor: 'm1.small', image: 'ubuntu-22.04', start: false, ...over });
const now = { waitMs: 0 };


async function countAll(backend: Backend): Promise<number> {
  return Object.values(await backend.vms.countByStatus()).reduce((a, b) => a + b, 0);
}

describe('VmService.create', () => {
  it('creates a STOPPED VM from catalog names and logs the create and the settle', async () => {
    const { service, events } = setup();
    const { record, replayed } = await service.create(memberScope, body(), now);
    expect(replayed).toBe(false);
    expect(record.vm).toMatchObject({ name: 'web-1', flavor: 'm1.small', image: 'ubuntu-22.04', status: 'STOPPED', task: null });
    expect(events('vm.create_accepted')).toEqual([expect.objectContaining({ vm_id: record.vm.id, flavor: 'm1.small', image: 'ubuntu-22.04', start: false })]);
    expect(events('vm.settled')).toEqual([
      expect.objectContaining({ vm_id: record.vm.id, previous_status: 'STOPPED', status: 'STOPPED', task: 'creating', msg: 'VM created' }),
    ]);
  });

  it('creates a RUNNING VM when asked to start', async () => {
    const { service } = setup();
    expect((await service.create(memberScope, body({ start: true }), now)).record.vm.status).toBe('RUNNING');
  });

  it('accepts the flavor and image by id as well as by name, and shows their names', async () => {
    const { service } = setup();
    const flavor = seedFlavors[2] as Flavor;
    const image = seedImages[1] as (typeof seedImages)[number];
    const { record } = await service.create(memberScope, body({ flavor: flavor.id, image: image.id }), now);
    expect(record.vm.flavor).toBe(flavor.name);
    expect(record.vm.image).toBe(image.name);
  });

  it('an unknown flavor is UNKNOWN_FLAVOR naming the field flavor, and nothing is created', async () => {
    const { service, backend } = setup();
    const error = await caught(service.create(memberScope, body({ flavor: 'm9.huge' }), now));
    expect(error.code).toBe('UNKNOWN_FLAVOR');
    expect(error.extras.errors?.map((e) => e.path)).toEqual(['flavor']);
    expect(await countAll(backend)).toBe(0);
  });

  it('an unknown image is UNKNOWN_IMAGE naming the field image, and nothing is created', async () => {
    const { service, backend } = setup();
    const error = await caught(service.create(memberScope, body({ image: 'windows-95' }), now));
    expect(error.code).toBe('UNKNOWN_IMAGE');
    expect(error.extras.errors?.map((e) => e.path)).toEqual(['image']);
    expect(await countAll(backend)).toBe(0);
  });

  it('an unknown flavor or image is reported the same way with an Idempotency-Key', async () => {
    const { service } = setup();
    expect((await caught(service.create(memberScope, body({ flavor: 'nope' }), { ...now, idempotencyKey: 'k' }))).code).toBe('UNKNOWN_FLAVOR');
    expect((await caught(service.create(memberScope, body({ image: 'nope' }), { ...now, idempotencyKey: 'k' }))).code).toBe('UNKNOWN_IMAGE');
  });

  it('a VM that no host can hold is created and logged as failed, with its fault', async () => {
    const { service, events } = setup({ capacityVcpus: 1 });
    const { record } = await service.create(memberScope, body({ flavor: 'm1.medium' }), now);
    expect(record.vm.status).toBe('ERROR');
    expect(events('vm.settled')).toEqual([
      expect.objectContaining({ vm_id: record.vm.id, status: 'ERROR', msg: 'VM failed', fault: expect.objectContaining({ code: 'NO_VALID_HOST' }) }),
    ]);
  });

  it('a quota refusal reaches the caller as QUOTA_EXCEEDED', async () => {
    const { service } = setup({ quotaInstances: 0 });
    expect((await caught(service.create(memberScope, body(), now))).code).toBe('QUOTA_EXCEEDED');
  });
});

describe('VmService.create with an Idempotency-Key', () => {
  it('the same key with the same body replays the first result and creates nothing new', async () => {
    const { service, backend, events } = setup();
    const first = await service.create(memberScope, body(), { ...now, idempotencyKey: 'key-1' });
    const again = await service.create(memberScope, body(), { ...now, idempotencyKey: 'key-1' });
    expect(first.replayed).toBe(false);
    expect(again.replayed).toBe(true);
    expect(again.record.vm.id).toBe(first.record.vm.id);
    expect(await countAll(backend)).toBe(1);
    expect(events('vm.create_accepted')).toHaveLength(1);
  });

  it('a replay shows the VM as it is now', async () => {
    const { service } = setup();
    const first = await service.create(memberScope, body(), { ...now, idempotencyKey: 'key-1' });
    await service.act(memberScope, first.record.vm.id, { action: 'start' }, now);
    const again = await service.create(memberScope, body(), { ...now, idempotencyKey: 'key-1' });
    expect(again.record.vm.status).toBe('RUNNING');
  });

  it('naming the flavor and image by id instead of by name is the same request', async () => {
    const { service, backend } = setup();
    const first = await service.create(memberScope, body(), { ...now, idempotencyKey: 'key-1' });
    const byId = body({ flavor: (seedFlavors.find((f) => f.name === 'm1.small') as Flavor).id, image: (seedImages[0] as { id: string }).id });
    const again = await service.create(memberScope, byId, { ...now, idempotencyKey: 'key-1' });
    expect(again).toMatchObject({ replayed: true, record: { vm: { id: first.record.vm.id } } });
    expect(await countAll(backend)).toBe(1);
  });

  it.each([
    ['name', { name: 'web-2' }],
    ['flavor', { flavor: 'm1.medium' }],
    ['image', { image: 'debian-12' }],
    ['start', { start: true }],
  ] as const)('the same key with another %s is IDEMPOTENCY_KEY_REUSED and creates nothing', async (_field, change) => {
    const { service, backend } = setup();
    await service.create(memberScope, body(), { ...now, idempotencyKey: 'key-1' });
    const error = await caught(service.create(memberScope, body(change), { ...now, idempotencyKey: 'key-1' }));
    expect(error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await countAll(backend)).toBe(1);
  });

  it('different keys with the same body create different VMs', async () => {
    const { service, backend } = setup();
    const a = await service.create(memberScope, body(), { ...now, idempotencyKey: 'key-a' });
    const b = await service.create(memberScope, body(), { ...now, idempotencyKey: 'key-b' });
    expect(a.record.vm.id).not.toBe(b.record.vm.id);
    expect(await countAll(backend)).toBe(2);
  });

  it('a retry while the first request is still in flight is IDEMPOTENCY_KEY_IN_FLIGHT; after it, the retry replays', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    let creates = 0;
    const { service, backend } = setup({}, {
      wrap: (vms) => ({
        pollIntervalMs: vms.pollIntervalMs,
        get: (s, id) => vms.get(s, id),
        list: (s, q) => vms.list(s, q),
        apply: (s, id, c, g) => vms.apply(s, id, c, g),
        findByIdempotencyKey: (s, k) => vms.findByIdempotencyKey(s, k),
        quotaUsage: (s) => vms.quotaUsage(s),
        listActions: (s, id) => vms.listActions(s, id),
        tenantOwnsVms: (t) => vms.tenantOwnsVms(t),
        countByStatus: () => vms.countByStatus(),
        onSettled: (l) => vms.onSettled(l),
        async create(scope: Scope, input: CreateVmInput): Promise<VmRecord> {
          creates += 1;
          await gate;
          return vms.create(scope, input);
        },
      }),
    });
    const first = service.create(memberScope, body(), { ...now, idempotencyKey: 'key-1' });
    const retry = await caught(service.create(memberScope, body(), { ...now, idempotencyKey: 'key-1' }));
    expect(retry.code).toBe('IDEMPOTENCY_KEY_IN_FLIGHT');
    // Another key is not held up by this one.
    const other = service.create(memberScope, body({ name: 'other' }), { ...now, idempotencyKey: 'key-2' });
    release();
    const created = await first;
    await other;
    const replay = await service.create(memberScope, body(), { ...now, idempotencyKey: 'key-1' });
    expect(replay).toMatchObject({ replayed: true, record: { vm: { id: created.record.vm.id } } });
    expect(creates).toBe(2);
    expect(await countAll(backend)).toBe(2);
  });

  it('passes the scope (its request id with it) down to the repository with the create', async () => {
    const calls: [Scope, CreateVmInput][] = [];
    const { service } = setup({}, {
      wrap: (vms) => Object.assign(Object.create(vms) as VmRepository, {
        create: (scope: Scope, input: CreateVmInput) => {
          calls.push([scope, input]);
          return vms.create(scope, input);
        },
      }),
    });
    await service.create({ ...memberScope, requestId: 'req-42' }, body(), { ...now, idempotencyKey: 'k' });
    await service.create(memberScope, body({ name: 'no-id' }), now);
    expect(calls[0]?.[0].requestId).toBe('req-42');
    expect(calls[0]?.[1]).toMatchObject({ idempotency: { key: 'k', fingerprint: expect.any(String) } });
    expect(calls[1]?.[1]).not.toHaveProperty('idempotency');
  });

  it('a first request that failed frees its key for the retry', async () => {
    const { service } = setup();
    await caught(service.create(memberScope, body({ image: 'nope' }), { ...now, idempotencyKey: 'key-1' }));
    const retry = await service.create(memberScope, body(), { ...now, idempotencyKey: 'key-1' });
    expect(retry.replayed).toBe(false);
  });
});

describe('VmService.get and list', () => {
  it('get returns the VM, and VM_NOT_FOUND for an unknown id', async () => {
    const { service } = setup();
    const { record } = await service.create(memberScope, body(), now);
    expect(await service.get(memberScope, record.vm.id)).toEqual(record);
    const error = await caught(service.get(memberScope, '00000000-0000-4000-8000-000000000000'));
    expect(error.code).toBe('VM_NOT_FOUND');
  });

  it('lists leave DELETED VMs out unless asked for them', async () => {
    const { service } = setup();
    const kept = (await service.create(memberScope, body({ name: 'kept' }), now)).record;
    const gone = (await service.create(memberScope, body({ name: 'gone' }), now)).record;
    await service.act(memberScope, gone.vm.id, { action: 'delete' }, now);
    expect((await service.list(memberScope, { limit: 50 })).items.map((r) => r.vm.id)).toEqual([kept.vm.id]);
    expect((await service.list(memberScope, { limit: 50, statuses: new Set() })).items.map((r) => r.vm.id)).toEqual([kept.vm.id]);
    expect((await service.list(memberScope, { limit: 50, statuses: new Set(['DELETED'] as const) })).items.map((r) => r.vm.id)).toEqual([gone.vm.id]);
  });

  it('a name ending in * is a prefix, any other name is exact', async () => {
    const { service } = setup();
    for (const name of ['web-1', 'web-10', 'db-1']) await service.create(memberScope, body({ name }), now);
    const names = async (name: string) => (await service.list(memberScope, { limit: 50, name })).items.map((r) => r.vm.name);
    expect(await names('web-1')).toEqual(['web-1']);
    expect(await names('web-1*')).toEqual(['web-1', 'web-10']);
    expect(await names('*')).toEqual(['web-1', 'web-10', 'db-1']);
  });

  it('pages with limit and the cursor it returned', async () => {
    const { service } = setup();
    for (const name of ['a', 'b', 'c']) await service.create(memberScope, body({ name }), now);
    const first = await service.list(memberScope, { limit: 2 });
    const second = await service.list(memberScope, { limit: 2, cursor: first.nextCursor as string });
    expect([...first.items, ...second.items].map((r) => r.vm.name)).toEqual(['a', 'b', 'c']);
    expect(second.nextCursor).toBeNull();
  });
});

describe('VmService.act', () => {
  it('starts a VM, logging the accepted action and a vm.settled event with the previous and new status', async () => {
    const { service, events } = setup();
    const { record } = await service.create(memberScope, body(), now);
    const started = await service.act(memberScope, record.vm.id, { action: 'start' }, now);
    expect(started.vm.status).toBe('RUNNING');
    expect(events('vm.action_accepted')).toEqual([expect.objectContaining({ vm_id: record.vm.id, action: 'start', status: 'RUNNING' })]);
    expect(events('vm.settled').at(-1)).toMatchObject({ vm_id: record.vm.id, previous_status: 'STOPPED', status: 'RUNNING', task: 'starting', msg: 'VM started' });
  });

  it.each([
    [['start', 'stop'], 'VM stopped'],
    [['start', 'pause'], 'VM paused'],
    [['start', 'pause', 'resume'], 'VM resumed'],
    [['start', 'suspend'], 'VM suspended'],
    [['delete'], 'VM deleted'],
  ] as const)('after %j the last settled event says %j', async (actions, message) => {
    const { service, events } = setup();
    const { record } = await service.create(memberScope, body(), now);
    for (const action of actions) await service.act(memberScope, record.vm.id, { action }, now);
    expect(events('vm.settled').at(-1)?.msg).toBe(message);
  });

  it('restart (soft or hard) of a RUNNING VM keeps it RUNNING and says VM restarted', async () => {
    const { service, events } = setup();
    const { record } = await service.create(memberScope, body({ start: true }), now);
    for (const type of ['soft', 'hard'] as const) {
      expect((await service.act(memberScope, record.vm.id, { action: 'restart', type }, now)).vm.status).toBe('RUNNING');
      expect(events('vm.settled').at(-1)?.msg).toBe('VM restarted');
    }
  });

  it('a refused action is INVALID_STATE_TRANSITION naming the status and allowed actions, and changes nothing', async () => {
    const { service } = setup();
    const { record } = await service.create(memberScope, body(), now);
    const error = await caught(service.act(memberScope, record.vm.id, { action: 'pause' }, now));
    expect(error.code).toBe('INVALID_STATE_TRANSITION');
    expect(error.extras.current_status).toBe('STOPPED');
    expect([...(error.extras.allowed_actions ?? [])].sort()).toEqual(['delete', 'resize', 'start']);
    expect(await service.get(memberScope, record.vm.id)).toEqual(record);
  });

  it('an action on an unknown VM is VM_NOT_FOUND', async () => {
    const { service } = setup();
    expect((await caught(service.act(memberScope, '00000000-0000-4000-8000-000000000000', { action: 'start' }, now))).code).toBe('VM_NOT_FOUND');
  });

  it('resize takes a flavor by name or id, and says VM resized', async () => {
    const { service, events } = setup();
    const { record } = await service.create(memberScope, body({ flavor: 'm1.small' }), now);
    expect((await service.act(memberScope, record.vm.id, { action: 'resize', flavor: 'm1.medium' }, now)).vm.flavor).toBe('m1.medium');
    const large = seedFlavors.find((f) => f.name === 'm1.large') as Flavor;
    expect((await service.act(memberScope, record.vm.id, { action: 'resize', flavor: large.id }, now)).vm.flavor).toBe('m1.large');
    expect(events('vm.settled').at(-1)?.msg).toBe('VM resized');
  });

  it('resize to an unknown flavor is UNKNOWN_FLAVOR naming the field flavor', async () => {
    const { service } = setup();
    const { record } = await service.create(memberScope, body(), now);
    const error = await caught(service.act(memberScope, record.vm.id, { action: 'resize', flavor: 'm9.huge' }, now));
    expect(error.code).toBe('UNKNOWN_FLAVOR');
    expect(error.extras.errors?.map((e) => e.path)).toEqual(['flavor']);
  });

  it('resize to the flavor the VM has, by name or by id, is VALIDATION_ERROR', async () => {
    const { service } = setup();
    const { record } = await service.create(memberScope, body({ flavor: 'm1.small' }), now);
    const small = seedFlavors.find((f) => f.name === 'm1.small') as Flavor;
    expect((await caught(service.act(memberScope, record.vm.id, { action: 'resize', flavor: 'm1.small' }, now))).code).toBe('VALIDATION_ERROR');
    expect((await caught(service.act(memberScope, record.vm.id, { action: 'resize', flavor: small.id }, now))).code).toBe('VALIDATION_ERROR');
  });

  it('restart of an ERROR VM that was never placed is refused; delete is accepted at once', async () => {
    const { service } = setup({ capacityVcpus: 1 });
    const { record } = await service.create(memberScope, body({ flavor: 'm1.medium' }), now);
    const error = await caught(service.act(memberScope, record.vm.id, { action: 'restart', type: 'hard' }, now));
    expect(error.code).toBe('INVALID_STATE_TRANSITION');
    expect(error.extras.allowed_actions).toEqual(['delete']);
    expect((await service.act(memberScope, record.vm.id, { action: 'delete' }, now)).vm.status).toBe('DELETED');
  });

  it('any action on a DELETED VM is INVALID_STATE_TRANSITION', async () => {
    const { service } = setup();
    const { record } = await service.create(memberScope, body(), now);
    await service.act(memberScope, record.vm.id, { action: 'delete' }, now);
    for (const action of ['start', 'delete'] as const) {
      const error = await caught(service.act(memberScope, record.vm.id, { action }, now));
      expect(error.code).toBe('INVALID_STATE_TRANSITION');
      expect(error.extras.current_status).toBe('DELETED');
    }
  });
});

describe('VmService.act with If-Match', () => {
  it('a stale version is PRECONDITION_FAILED and the VM is unchanged', async () => {
    const { service } = setup();
    const { record } = await service.create(memberScope, body(), now);
    const started = await service.act(memberScope, record.vm.id, { action: 'start' }, now);
    const error = await caught(service.act(memberScope, record.vm.id, { action: 'stop' }, { ...now, ifMatch: [record.version] }));
    expect(error.code).toBe('PRECONDITION_FAILED');
    expect(await service.get(memberScope, record.vm.id)).toEqual(started);
  });

  it('the current version matches, alone or among others', async () => {
    const { service } = setup();
    const { record } = await service.create(memberScope, body(), now);
    const started = await service.act(memberScope, record.vm.id, { action: 'start' }, { ...now, ifMatch: [record.version] });
    expect(started.vm.status).toBe('RUNNING');
    const stopped = await service.act(memberScope, record.vm.id, { action: 'stop' }, { ...now, ifMatch: ['999', started.version] });
    expect(stopped.vm.status).toBe('STOPPED');
  });

  it("'*' matches any version", async () => {
    const { service } = setup();
    const { record } = await service.create(memberScope, body(), now);
    await service.act(memberScope, record.vm.id, { action: 'start' }, now);
    expect((await service.act(memberScope, record.vm.id, { action: 'stop' }, { ...now, ifMatch: ['*'] })).vm.status).toBe('STOPPED');
  });

  it('If-Match is judged before the state machine: a stale ETag on a refused action is still 412', async () => {
    const { service } = setup();
    const { record } = await service.create(memberScope, body(), now);
    const error = await caught(service.act(memberScope, record.vm.id, { action: 'pause' }, { ...now, ifMatch: ['999'] }));
    expect(error.code).toBe('PRECONDITION_FAILED');
  });

  it('two actions made with the same ETag: the first succeeds, the second is PRECONDITION_FAILED', async () => {
    const { service } = setup();
    const { record } = await service.create(memberScope, body(), now);
    const [a, b] = await Promise.allSettled([
      service.act(memberScope, record.vm.id, { action: 'start' }, { ...now, ifMatch: [record.version] }),
      service.act(memberScope, record.vm.id, { action: 'delete' }, { ...now, ifMatch: [record.version] }),
    ]);
    expect(a.status).toBe('fulfilled');
    expect(b.status === 'rejected' && (b.reason as ApiError).code).toBe('PRECONDITION_FAILED');
  });
});

describe('VmService catalogs', () => {
  it('lists the seed flavors and images', async () => {
    const { service } = setup();
    expect((await service.listFlavors()).map((f) => f.name)).toEqual(seedFlavors.map((f) => f.name));
    expect((await service.listImages()).map((i) => i.name)).toEqual(seedImages.map((i) => i.name));
  });

  it('getFlavor finds a flavor by name and by id, and is FLAVOR_NOT_FOUND otherwise', async () => {
    const { service } = setup();
    const medium = seedFlavors.find((f) => f.name === 'm1.medium') as Flavor;
    expect(await service.getFlavor('m1.medium')).toEqual(medium);
    expect(await service.getFlavor(medium.id)).toEqual(medium);
    expect((await caught(service.getFlavor('m9.huge'))).code).toBe('FLAVOR_NOT_FOUND');
  });

  it('getImage finds an image by name and by id, and is IMAGE_NOT_FOUND otherwise', async () => {
    const { service } = setup();
    const debian = seedImages.find((i) => i.name === 'debian-12') as (typeof seedImages)[number];
    expect(await service.getImage('debian-12')).toEqual(debian);
    expect(await service.getImage(debian.id)).toEqual(debian);
    expect((await caught(service.getImage('windows-95'))).code).toBe('IMAGE_NOT_FOUND');
  });
});

describe('VmService waiting (memory backend with a delay)', () => {
  const DELAY = 150;

  it('create with waitMs longer than the delay returns the settled VM', async () => {
    const { service } = setup({ actionDelayMs: DELAY });
    const { record } = await service.create(memberScope, body({ start: true }), { waitMs: 5_000 });
    expect(record.vm).toMatchObject({ status: 'RUNNING', task: null });
  });

  it('create without waiting returns the VM still creating', async () => {
    const { service } = setup({ actionDelayMs: DELAY });
    const { record } = await service.create(memberScope, body({ start: true }), { waitMs: 0 });
    expect(record.vm).toMatchObject({ status: 'STOPPED', task: 'creating' });
  });

  it('act with waitMs longer than the delay returns the settled VM', async () => {
    const { service } = setup({ actionDelayMs: DELAY });
    const { record } = await service.create(memberScope, body(), { waitMs: 5_000 });
    const started = await service.act(memberScope, record.vm.id, { action: 'start' }, { waitMs: 5_000 });
    expect(started.vm).toMatchObject({ status: 'RUNNING', task: null });
  });

  it('act with waitMs shorter than the delay returns the VM still in progress, after about waitMs', async () => {
    const { service } = setup({ actionDelayMs: 600 });
    const { record } = await service.create(memberScope, body(), { waitMs: 5_000 });
    const started = Date.now();
    const starting = await service.act(memberScope, record.vm.id, { action: 'start' }, { waitMs: 60 });
    const elapsed = Date.now() - started;
    expect(starting.vm).toMatchObject({ status: 'STOPPED', task: 'starting' });
    expect(elapsed).toBeGreaterThanOrEqual(50);
    expect(elapsed).toBeLessThan(600);
  });

  it('a replay with waitMs waits for the first VM to settle', async () => {
    const { service } = setup({ actionDelayMs: DELAY });
    const first = await service.create(memberScope, body(), { waitMs: 0, idempotencyKey: 'k' });
    expect(first.record.vm.task).toBe('creating');
    const again = await service.create(memberScope, body(), { waitMs: 5_000, idempotencyKey: 'k' });
    expect(again).toMatchObject({ replayed: true, record: { vm: { id: first.record.vm.id, status: 'STOPPED', task: null } } });
  });

  it('a VM that vanishes while waited on is answered with the last record known', async () => {
    const { service } = setup({ actionDelayMs: 10_000 }, {
      wrap: (vms) => Object.assign(Object.create(vms) as VmRepository, { get: async () => undefined }),
    });
    const { record } = await service.create(memberScope, body(), { waitMs: 60 });
    expect(record.vm.task).toBe('creating');
  });

  it('the shutdown signal ends a wait at once with the VM still in progress', async () => {
    const shutdown = new AbortController();
    const { service } = setup({ actionDelayMs: 10_000 }, { shutdown: shutdown.signal });
    const started = Date.now();
    setTimeout(() => shutdown.abort(), 50);
    const { record } = await service.create(memberScope, body(), { waitMs: 60_000 });
    const elapsed = Date.now() - started;
    expect(record.vm.task).toBe('creating');
    expect(elapsed).toBeLessThan(2_000);
  });

  it('after shutdown a request asking to wait answers at once', async () => {
    const shutdown = new AbortController();
    shutdown.abort();
    const { service } = setup({ actionDelayMs: 10_000 }, { shutdown: shutdown.signal });
    const started = Date.now();
    const { record } = await service.create(memberScope, body(), { waitMs: 60_000 });
    expect(record.vm.task).toBe('creating');
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('VmService.act while a task runs', () => {
  /** Long enough that the task is still running when the next call comes. */
  const slow = { actionDelayMs: 300 };
  const settledCreate = { waitMs: 5_000 };

  it('a stop during starting is TASK_IN_PROGRESS allowing only delete, and following that list is accepted', async () => {
    const { service } = setup(slow);
    const { record } = await service.create(memberScope, body(), settledCreate);
    const starting = await service.act(memberScope, record.vm.id, { action: 'start' }, now);
    expect(starting.vm).toMatchObject({ status: 'STOPPED', task: 'starting' });
    const error = await caught(service.act(memberScope, record.vm.id, { action: 'stop' }, now));
    expect(error.code).toBe('TASK_IN_PROGRESS');
    expect(error.extras).toMatchObject({ current_status: 'STOPPED', task: 'starting', allowed_actions: ['delete'] });
    expect((await service.act(memberScope, record.vm.id, { action: 'delete' }, now)).vm.task).toBe('deleting');
  });

  it('an action the settled status would refuse as well is still TASK_IN_PROGRESS while a task runs', async () => {
    const { service } = setup(slow);
    const { record } = await service.create(memberScope, body(), settledCreate);
    await service.act(memberScope, record.vm.id, { action: 'start' }, now);
    for (const action of ['pause', 'resume', 'suspend'] as const) {
      const error = await caught(service.act(memberScope, record.vm.id, { action }, now));
      expect(error.code).toBe('TASK_IN_PROGRESS');
      expect(error.extras.allowed_actions).toEqual(['delete']);
    }
  });
});

describe('the memory backend and the error type', () => {
  it('the memory backend is named memory and always ready', async () => {
    const { backend } = setup();
    expect(backend.name).toBe('memory');
    expect(await backend.checkReady()).toEqual({ ready: true, checks: [{ name: 'memory', ok: true }] });
  });

  it('extra flavors join the seed catalog', async () => {
    const huge: Flavor = { id: 'huge', name: 'huge', vcpus: 1, ram_mb: 10_000_000, disk_gb: 1 };
    const backend = createMemoryBackend(limits(), { extraFlavors: [huge] });
    backends.push(backend);
    expect(await backend.catalog.findFlavor('huge')).toEqual(huge);
    expect((await backend.catalog.listFlavors()).map((f) => f.name)).toEqual([...seedFlavors.map((f) => f.name), 'huge']);
  });

  it('isApiError tells an ApiError from any other value', () => {
    expect(isApiError(new ApiError('VM_NOT_FOUND', 'x'))).toBe(true);
    expect(isApiError(new Error('x'))).toBe(false);
    expect(isApiError({ code: 'VM_NOT_FOUND', detail: 'x' })).toBe(false);
    expect(isApiError(undefined)).toBe(false);
  });
});
