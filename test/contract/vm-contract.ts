import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VmSchema } from '../../src/http/schemas.js';
import { allowedActions, transitions } from '../../src/domain/transitions.js';
import { vmActions, type VmAction, type VmStatus } from '../../src/domain/vm.js';
import { ApiClient, type ProblemBody, type VmBody } from '../support/api-client.js';

/** A running API in front of some backend, and what that backend's catalog offers. */
export interface ContractTarget {
  baseUrl: string;
  close(): Promise<void>;
  image: string;
  /** Two flavors that fit, for create and resize. */
  flavors: { small: string; larger: string };
  /** A flavor that no host can hold: the VM goes to ERROR. */
  unplaceableFlavor: string;
  /** A flavor over the project's quota: refused at once with 403. */
  quotaBusterFlavor: string;
  /** Headers every call of the suite sends (tenant A's key), when the API needs keys. */
  headers?: Record<string, string>;
  /** Another tenant's headers, for the isolation probes (docs/contract.md section 8). */
  otherTenant?: Record<string, string>;
}

export interface ContractOptions {
  /** Runs the isolation probes: the target gives `headers` and `otherTenant`. */
  twoTenants?: boolean;
  /** How long making and closing the target may take (a real cloud making tenants: minutes). */
  setupTimeoutMs?: number;
}

/** Settled states a VM can be driven to, and how (from STOPPED). */
const routeTo: Record<'STOPPED' | 'RUNNING' | 'PAUSED' | 'SUSPENDED', { action: string; body?: unknown }[]> = {
  STOPPED: [],
  RUNNING: [{ action: 'start' }],
  PAUSED: [{ action: 'start' }, { action: 'pause' }],
  SUSPENDED: [{ action: 'start' }, { action: 'suspend' }],
};

const bodyFor = (action: VmAction, target: ContractTarget): unknown =>
  action === 'resize' ? { flavor: target.flavors.larger } : action === 'restart' ? { type: 'soft' } : undefined;

/**
 * docs/contract.md sections 1 to 6 as HTTP tests, for any backend: it polls for settling and assumes no
 * timings, so the same suite runs against the memory backend (sync and delayed) and a real cloud.
 */
export function describeContract(label: string, makeTarget: () => Promise<ContractTarget>, options: ContractOptions = {}): void {
  describe(`VM API contract (${label})`, () => {
    let target: ContractTarget;
    let api: ApiClient;
    const prefix = `ct-${randomBytes(3).toString('hex')}`;
    let counter = 0;
    const created: string[] = [];
    const nextName = () => `${prefix}-${++counter}`;

    const newVm = async (overrides: Record<string, unknown> = {}): Promise<VmBody> => {
      const vm = await api.createSettled({ name: nextName(), flavor: target.flavors.small, image: target.image, ...overrides });
      created.push(vm.id);
      return vm;
    };
    const vmIn = async (status: keyof typeof routeTo): Promise<VmBody> => {
      let vm = await newVm();
      for (const step of routeTo[status]) vm = await api.actAndSettle(vm.id, step.action, step.body);
      expect(vm.status).toBe(status);
      return vm;
    };

    beforeAll(async () => {
      target = await makeTarget();
      api = new ApiClient(target.baseUrl, target.headers);
    }, options.setupTimeoutMs);

    afterAll(async () => {
      if (!api) return;
      await Promise.all(created.map((id) => api.deleteVm(id)));
      await target.close();
    }, options.setupTimeoutMs);

    describe('creating', () => {
      it('creates a VM that settles STOPPED, with Location, ETag and the resource shape of section 1', async () => {
        const response = await api.createVm({ name: nextName(), flavor: target.flavors.small, image: target.image });
        expect([201, 202]).toContain(response.status);
        created.push(response.body.id);
        expect(response.headers.get('location')).toBe(`/api/v1/vms/${response.body.id}`);
        expect(response.headers.get('etag')).toMatch(/^".+"$/);
        expect(VmSchema.safeParse(response.body).success).toBe(true);
        if (response.status === 202) expect(response.body.task).toBe('creating');
        const vm = (await api.settled(response.body.id)).body;
        expect(vm).toMatchObject({ status: 'STOPPED', task: null, fault: null, flavor: target.flavors.small, image: target.image });
        expect(Date.parse(vm.created_at)).not.toBeNaN();
      });

      it('creates a RUNNING VM with an IPv4 address when asked to start', async () => {
        const vm = await newVm({ start: true });
        expect(vm.status).toBe('RUNNING');
        expect(vm.ip_address).toMatch(/^\d{1,3}(\.\d{1,3}){3}$/);
      });

      it('puts a VM that no host can hold in ERROR with a fault, refuses to restart it, and deletes it', async () => {
        const vm = await newVm({ flavor: target.unplaceableFlavor });
        expect(vm.status).toBe('ERROR');
        expect(vm.fault).toMatchObject({ code: 'NO_VALID_HOST', message: expect.any(String), at: expect.any(String) });
        const restart = await api.act(vm.id, 'restart', { type: 'hard' });
        expect(restart.status).toBe(409);
        expect((restart.body as unknown as ProblemBody).allowed_actions).toEqual(['delete']);
        const deleted = await api.deleteVm(vm.id);
        expect(deleted.status).toBe(200);
        expect(deleted.body.task).toBeNull();
        const after = await api.getVm(vm.id);
        expect([200, 404]).toContain(after.status);
        if (after.status === 200) expect(after.body.status).toBe('DELETED');
      });

      it('refuses a create over the quota with 403 QUOTA_EXCEEDED and creates nothing', async () => {
        const name = nextName();
        const response = await api.createVm({ name, flavor: target.quotaBusterFlavor, image: target.image });
        expect(response.status).toBe(403);
        expect((response.body as unknown as ProblemBody).code).toBe('QUOTA_EXCEEDED');
        const listed = await api.call<{ data: VmBody[] }>('GET', `/api/v1/vms?name=${name}&status=${['STOPPED', 'RUNNING', 'ERROR'].join(',')}`);
        expect(listed.body.data).toEqual([]);
      });

      it('accepts flavor and image by id as well as by name', async () => {
        const flavor = (await api.call<{ id: string; name: string }>('GET', `/api/v1/flavors/${target.flavors.small}`)).body;
        const image = (await api.call<{ id: string; name: string }>('GET', `/api/v1/images/${target.image}`)).body;
        const vm = await newVm({ flavor: flavor.id, image: image.id });
        expect(vm).toMatchObject({ flavor: flavor.name, image: image.name });
      });

      it.each([
        ['an unknown field', { flavour: 'm1.small' }, 400, 'VALIDATION_ERROR', 'body.flavour'],
        ['a bad name', { name: '-bad-' }, 400, 'VALIDATION_ERROR', 'body.name'],
        ['an unknown flavor', { flavor: 'no-such-flavor' }, 400, 'UNKNOWN_FLAVOR', 'flavor'],
        ['an unknown image', { image: 'no-such-image' }, 400, 'UNKNOWN_IMAGE', 'image'],
      ])('refuses a create with %s', async (_what, change, status, code, path) => {
        const response = await api.createVm({ name: nextName(), flavor: target.flavors.small, image: target.image, ...change });
        expect(response.status).toBe(status);
        expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        const problem = response.body as unknown as ProblemBody;
        expect(problem.code).toBe(code);
        expect(problem.errors?.map((e) => e.path)).toContain(path);
      });
    });

    describe('the state machine', () => {
      it('drives one VM through every transition of section 2', async () => {
        const vm = await newVm();
        const steps: [string, unknown, string][] = [
          ['start', undefined, 'RUNNING'],
          ['restart', { type: 'soft' }, 'RUNNING'],
          ['restart', { type: 'hard' }, 'RUNNING'],
          ['pause', undefined, 'PAUSED'],
          ['resume', undefined, 'RUNNING'],
          ['suspend', undefined, 'SUSPENDED'],
          ['resume', undefined, 'RUNNING'],
          ['pause', undefined, 'PAUSED'],
          ['stop', undefined, 'STOPPED'],
          ['start', undefined, 'RUNNING'],
          ['resize', { flavor: target.flavors.larger }, 'RUNNING'],
          ['stop', undefined, 'STOPPED'],
          ['resize', { flavor: target.flavors.small }, 'STOPPED'],
        ];
        let etag = (await api.getVm(vm.id)).headers.get('etag');
        for (const [action, body, expected] of steps) {
          const settled = await api.actAndSettle(vm.id, action, body);
          expect({ action, status: settled.status, task: settled.task }).toEqual({ action, status: expected, task: null });
          const now = (await api.getVm(vm.id)).headers.get('etag');
          expect(now, `ETag after ${action}`).not.toBe(etag);
          etag = now;
        }
        expect((await api.getVm(vm.id)).body.flavor).toBe(target.flavors.small);
        const deleted = await api.actAndSettle(vm.id, 'delete');
        expect(['DELETED']).toContain(deleted.status);
      });

      for (const status of Object.keys(routeTo) as (keyof typeof routeTo)[]) {
        const refused = vmActions.filter((a) => !transitions[status][a]);
        it(`refuses ${refused.join(', ')} on a ${status} VM with 409 naming the allowed actions`, async () => {
          const vm = await vmIn(status);
          for (const action of refused) {
            const response = await api.act(vm.id, action, bodyFor(action, target));
            expect({ action, status: response.status }).toEqual({ action, status: 409 });
            expect(response.body).toMatchObject({
              code: 'INVALID_STATE_TRANSITION',
              current_status: status,
              allowed_actions: allowedActions(status as VmStatus, true),
            });
          }
          expect((await api.getVm(vm.id)).body.status).toBe(status);
        });
      }

      it('restarts a RUNNING VM softly when the body is left out', async () => {
        const vm = await vmIn('RUNNING');
        const response = await api.act(vm.id, 'restart');
        expect([200, 202]).toContain(response.status);
        expect((await api.settled(vm.id)).body.status).toBe('RUNNING');
      });

      it('answers every action on a DELETED VM with 409, and GET with DELETED or 404', async () => {
        const vm = await newVm();
        await api.actAndSettle(vm.id, 'delete');
        for (const action of vmActions) {
          const response = action === 'delete' ? await api.deleteVm(vm.id) : await api.act(vm.id, action, bodyFor(action, target));
          expect([409, 404]).toContain(response.status);
        }
        const listed = await api.call<{ data: VmBody[] }>('GET', `/api/v1/vms?name=${vm.name}`);
        expect(listed.body.data).toEqual([]);
      });

      it('lists a deleted VM only when ?status=DELETED asks for it', async () => {
        const vm = await newVm();
        await api.actAndSettle(vm.id, 'delete');
        const got = await api.getVm(vm.id);
        expect(got.status).toBe(200);
        expect(got.body.status).toBe('DELETED');
        const listed = await api.call<{ data: VmBody[] }>('GET', `/api/v1/vms?name=${vm.name}&status=DELETED`);
        expect(listed.body.data.map((v) => v.id)).toEqual([vm.id]);
      });

      it('refuses a second action while a task runs, or once the first has settled', async () => {
        const vm = await vmIn('RUNNING');
        const stop = await api.act(vm.id, 'stop');
        expect([200, 202]).toContain(stop.status);
        const second = await api.act(vm.id, 'pause');
        expect(second.status).toBe(409);
        const code = (second.body as unknown as ProblemBody).code;
        // A 202 stop may still be running (busy) or may have settled in STOPPED (pause not allowed).
        const expected = stop.status === 200 ? ['INVALID_STATE_TRANSITION'] : ['TASK_IN_PROGRESS', 'INVALID_STATE_TRANSITION'];
        expect(expected).toContain(code);
        expect((await api.settled(vm.id)).body.status).toBe('STOPPED');
      });

      it('accepts delete while another task runs', async () => {
        const vm = await vmIn('STOPPED');
        const start = await api.act(vm.id, 'start');
        expect([200, 202]).toContain(start.status);
        const deleted = await api.deleteVm(vm.id);
        expect([200, 202]).toContain(deleted.status);
        const after = await api.settled(vm.id);
        expect(after.status === 404 || after.body.status === 'DELETED').toBe(true);
      });

      it('lets exactly one of several racing actions win, and ends in the state it explains', async () => {
        const vm = await vmIn('RUNNING');
        const actions = ['stop', 'pause', 'suspend', 'stop', 'pause', 'suspend'];
        const responses = await Promise.all(actions.map((a) => api.act(vm.id, a)));
        const winners = responses.flatMap((r, i) => (r.status === 200 || r.status === 202 ? [actions[i]] : []));
        expect(winners).toHaveLength(1);
        for (const r of responses) expect([200, 202, 409]).toContain(r.status);
        const expected = { stop: 'STOPPED', pause: 'PAUSED', suspend: 'SUSPENDED' }[winners[0] as 'stop'];
        expect((await api.settled(vm.id)).body.status).toBe(expected);
      });
    });

    describe('If-Match, wait and idempotency', () => {
      it('honours If-Match: a stale ETag is 412 and changes nothing, the current one acts', async () => {
        const vm = await newVm();
        const etag = (await api.getVm(vm.id)).headers.get('etag') as string;
        await api.actAndSettle(vm.id, 'start');
        const stale = await api.act(vm.id, 'stop', undefined, { 'If-Match': etag });
        expect(stale.status).toBe(412);
        expect((stale.body as unknown as ProblemBody).code).toBe('PRECONDITION_FAILED');
        expect((await api.getVm(vm.id)).body.status).toBe('RUNNING');
        const current = (await api.getVm(vm.id)).headers.get('etag') as string;
        const fresh = await api.act(vm.id, 'stop', undefined, { 'If-Match': current });
        expect([200, 202]).toContain(fresh.status);
      });

      it('waits for the task to settle with ?wait=true and with Prefer: wait=N', async () => {
        const vm = await newVm();
        const started = await api.call<VmBody>('POST', `/api/v1/vms/${vm.id}/start?wait=true`);
        expect(started.status).toBe(200);
        expect(started.body).toMatchObject({ status: 'RUNNING', task: null });
        const stopped = await api.act(vm.id, 'stop', undefined, { Prefer: 'wait=60' });
        expect(stopped.status).toBe(200);
        expect(stopped.headers.get('preference-applied')).toBe('wait=60');
        expect(stopped.body).toMatchObject({ status: 'STOPPED', task: null });
      });

      it('replays a create with the same Idempotency-Key and body, and refuses the key with another body', async () => {
        const key = `key-${prefix}-${randomBytes(4).toString('hex')}`;
        const body = { name: nextName(), flavor: target.flavors.small, image: target.image };
        const first = await api.createVm(body, { 'Idempotency-Key': key });
        expect([201, 202]).toContain(first.status);
        created.push(first.body.id);
        const again = await api.createVm(body, { 'Idempotency-Key': key });
        expect([201, 202]).toContain(again.status);
        expect(again.body.id).toBe(first.body.id);
        expect(again.headers.get('idempotent-replayed')).toBe('true');
        const listed = await api.call<{ data: VmBody[] }>('GET', `/api/v1/vms?name=${body.name}`);
        expect(listed.body.data).toHaveLength(1);
        const other = await api.createVm({ ...body, start: true }, { 'Idempotency-Key': key });
        expect(other.status).toBe(422);
        expect((other.body as unknown as ProblemBody).code).toBe('IDEMPOTENCY_KEY_REUSED');
      });
    });

    describe('listing', () => {
      it('pages through VMs with a cursor, each exactly once, oldest first, filtered by name prefix', async () => {
        const group = `${nextName()}-page`;
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) {
          const response = await api.createVm({ name: `${group}-${i}`, flavor: target.flavors.small, image: target.image });
          created.push(response.body.id);
          ids.push(response.body.id);
        }
        const seen: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const query: string = `name=${group}-*&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
          const page = await api.call<{ data: VmBody[]; next_cursor: string | null }>('GET', `/api/v1/vms?${query}`);
          expect(page.status).toBe(200);
          expect(page.body.data.length).toBeLessThanOrEqual(2);
          seen.push(...page.body.data.map((v) => v.id));
          cursor = page.body.next_cursor;
          pages += 1;
        } while (cursor !== null && pages < 10);
        expect(seen).toEqual(ids);
        expect(pages).toBe(3);
      });

      it('filters by exact name and by status', async () => {
        const running = await newVm({ start: true });
        const exact = await api.call<{ data: VmBody[] }>('GET', `/api/v1/vms?name=${running.name}`);
        expect(exact.body.data.map((v) => v.id)).toEqual([running.id]);
        const stopped = await api.call<{ data: VmBody[] }>('GET', `/api/v1/vms?name=${running.name}&status=STOPPED`);
        expect(stopped.body.data).toEqual([]);
      });

      it('lists each VM once however often ?status= names its status, in one list or repeated', async () => {
        const group = `${nextName()}-set`;
        const ids: string[] = [];
        for (let i = 0; i < 2; i++) ids.push((await newVm({ name: `${group}-${i}` })).id);
        for (const query of ['status=STOPPED,STOPPED', 'status=STOPPED&status=stopped']) {
          const page = await api.call<{ data: VmBody[] }>('GET', `/api/v1/vms?name=${group}-*&${query}&limit=2`);
          expect(page.status).toBe(200);
          expect(page.body.data.map((v) => v.id)).toEqual(ids);
        }
      });

      it('refuses a status filter of 2,000 values in one list, or 1,000 repeated parameters, with 400', async () => {
        // (2,000 repeated parameters would pass Node's 16 KiB header limit: a 431 before the app.)
        for (const query of [`status=${Array(2000).fill('STOPPED').join(',')}`, Array(1000).fill('status=STOPPED').join('&')]) {
          const response = await api.call<ProblemBody>('GET', `/api/v1/vms?${query}`);
          expect([response.status, response.body.code, response.body.errors?.map((e) => e.path)]).toEqual([400, 'VALIDATION_ERROR', ['query.status']]);
        }
      });

      it.each([
        ['limit=0', 'query.limit'],
        ['limit=1001', 'query.limit'],
        ['status=BOGUS', 'query.status'],
        ['cursor=not-a-cursor', 'cursor'],
        ['colour=red', 'query.colour'],
      ])('refuses ?%s with 400 naming %s', async (query, path) => {
        const response = await api.call<ProblemBody>('GET', `/api/v1/vms?${query}`);
        expect(response.status).toBe(400);
        expect(response.body.errors?.map((e) => e.path)).toContain(path);
      });
    });

    if (options.twoTenants) {
      describe('tenant isolation (section 8)', () => {
        const unknownId = '00000000-0000-4000-8000-0000000000aa';
        let other: ApiClient;
        beforeAll(() => {
          if (!target.otherTenant) throw new Error('twoTenants needs target.otherTenant');
          other = new ApiClient(target.baseUrl, target.otherTenant);
        });
        /** A problem body with what differs between any two answers (request id, the id asked for) taken out. */
        const comparable = (body: ProblemBody, id: string) => ({
          ...body,
          request_id: undefined,
          detail: body.detail.replaceAll(id, '<id>'),
          instance: body.instance.replaceAll(id, '<id>'),
        });

        it('stamps every VM with its tenant, the one GET /whoami names', async () => {
          const vm = await newVm();
          const mine = await api.call<{ tenant: string }>('GET', '/api/v1/whoami');
          const theirs = await other.call<{ tenant: string }>('GET', '/api/v1/whoami');
          expect(vm.tenant).toBe(mine.body.tenant);
          expect(theirs.body.tenant).not.toBe(mine.body.tenant);
        });

        it('answers another tenant\'s VM exactly as an unknown id: get, every action and delete', async () => {
          const vm = await vmIn('RUNNING');
          const before = await api.getVm(vm.id);
          const probes: [string, string, unknown][] = [
            ['GET', '', undefined],
            ['POST', '/stop', undefined],
            ['POST', '/restart', { type: 'soft' }],
            ['POST', '/resize', { flavor: target.flavors.larger }],
            ['DELETE', '', undefined],
          ];
          for (const [method, suffix, body] of probes) {
            const foreign = await other.call<ProblemBody>(method, `/api/v1/vms/${vm.id}${suffix}`, body === undefined ? {} : { body });
            const unknown = await other.call<ProblemBody>(method, `/api/v1/vms/${unknownId}${suffix}`, body === undefined ? {} : { body });
            expect([method, suffix, foreign.status]).toEqual([method, suffix, 404]);
            expect(comparable(foreign.body, vm.id)).toEqual(comparable(unknown.body, unknownId));
          }
          const after = await api.getVm(vm.id);
          expect([after.body.status, after.headers.get('etag')]).toEqual(['RUNNING', before.headers.get('etag')]);
        });

        it('leaves another tenant\'s VMs out of lists, both ways', async () => {
          const group = `${nextName()}-iso`;
          const mine = await newVm({ name: `${group}-a` });
          const theirs = (await other.createSettled({ name: `${group}-b`, flavor: target.flavors.small, image: target.image }));
          try {
            const seenByMe = await api.call<{ data: VmBody[] }>('GET', `/api/v1/vms?name=${group}-*`);
            const seenByThem = await other.call<{ data: VmBody[] }>('GET', `/api/v1/vms?name=${group}-*`);
            expect(seenByMe.body.data.map((v) => v.id)).toEqual([mine.id]);
            expect(seenByThem.body.data.map((v) => v.id)).toEqual([theirs.id]);
          } finally {
            await other.deleteVm(theirs.id);
          }
        });

        it('keeps Idempotency-Keys per tenant: the same key makes one VM in each', async () => {
          const key = `${nextName()}-idem`;
          const body = { name: `${nextName()}-idem`, flavor: target.flavors.small, image: target.image };
          const a = await api.createVm(body, { 'Idempotency-Key': key });
          created.push(a.body.id);
          const b = await other.createVm(body, { 'Idempotency-Key': key });
          try {
            expect([a.status, b.status].every((s) => s === 201 || s === 202)).toBe(true);
            expect(b.body.id).not.toBe(a.body.id);
            expect(b.headers.get('idempotent-replayed')).toBeNull();
          } finally {
            await other.settled(b.body.id);
            await other.deleteVm(b.body.id);
          }
        });
      });
    }

    describe('catalogs and errors', () => {
      it('lists the flavors and images, and finds each by name and by id', async () => {
        const flavors = await api.call<{ data: { id: string; name: string; vcpus: number; ram_mb: number }[] }>('GET', '/api/v1/flavors');
        expect(flavors.body.data.map((f) => f.name)).toEqual(expect.arrayContaining([target.flavors.small, target.flavors.larger]));
        const small = flavors.body.data.find((f) => f.name === target.flavors.small);
        expect((await api.call('GET', `/api/v1/flavors/${small?.id}`)).body).toEqual(small);
        const images = await api.call<{ data: { id: string; name: string }[] }>('GET', '/api/v1/images');
        const image = images.body.data.find((i) => i.name === target.image);
        expect(image).toBeDefined();
        expect((await api.call('GET', `/api/v1/images/${image?.id}`)).body).toEqual(image);
        expect((await api.call<ProblemBody>('GET', '/api/v1/flavors/no-such')).body.code).toBe('FLAVOR_NOT_FOUND');
        expect((await api.call<ProblemBody>('GET', '/api/v1/images/no-such')).body.code).toBe('IMAGE_NOT_FOUND');
      });

      it('answers an unknown VM with 404 and a malformed id with 400', async () => {
        const missing = await api.getVm('00000000-0000-4000-8000-000000000000');
        expect(missing.status).toBe(404);
        expect((missing.body as unknown as ProblemBody).code).toBe('VM_NOT_FOUND');
        const malformed = await api.getVm('not-a-uuid');
        expect(malformed.status).toBe(400);
        expect((malformed.body as unknown as ProblemBody).errors?.[0]?.path).toBe('path.id');
      });

      it('answers malformed JSON with 400, a non-JSON body with 415 and an oversized body with 413', async () => {
        const malformed = await api.call<ProblemBody>('POST', '/api/v1/vms', { rawBody: '{"name":', headers: { 'content-type': 'application/json' } });
        expect([malformed.status, malformed.body.code]).toEqual([400, 'VALIDATION_ERROR']);
        const text = await api.call<ProblemBody>('POST', '/api/v1/vms', { rawBody: 'name=x', headers: { 'content-type': 'text/plain' } });
        expect([text.status, text.body.code]).toEqual([415, 'VALIDATION_ERROR']);
        const big = await api.call<ProblemBody>('POST', '/api/v1/vms', {
          body: { name: 'big', flavor: target.flavors.small, image: 'x'.repeat(20_000) },
        });
        expect([big.status, big.body.code]).toEqual([413, 'VALIDATION_ERROR']);
      });
    });
  });
}
