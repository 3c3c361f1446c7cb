import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryBackend } from '../../src/backends/memory/memory-backend.js';
import type { Backend } from '../../src/repository/backend.js';
import { transitions } from '../../src/domain/transitions.js';
import type { VmStatus } from '../../src/domain/vm.js';
import { ApiClient, type ProblemBody, type VmBody } from '../support/api-client.js';
import pino from 'pino';
import { startServer } from '../../src/server.js';
import { configFrom, startApp, type RunningApp } from '../support/memory-app.js';
import { memoryLimits } from '../support/memory-limits.js';

let app: RunningApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const racers = ['start', 'stop', 'pause', 'resume', 'suspend', 'restart', 'resize', 'stop'];

async function race(env: Record<string, string>) {
  app = await startApp({ LOG_LEVEL: 'warn', ...env });
  const api = new ApiClient(app.baseUrl);
  const vm = await api.createSettled({ name: 'raced', flavor: 'm1.tiny', image: 'debian-12', start: true });
  const actions = Array.from({ length: 40 }, (_, i) => racers[i % racers.length] as string);
  const responses = await Promise.all(
    actions.map((action, i) => api.act(vm.id, action, action === 'resize' ? { flavor: i % 2 ? 'm1.small' : 'm1.tiny' } : undefined)),
  );
  const accepted = responses.flatMap((r, i) => (r.status < 300 ? [{ action: actions[i] as string, vm: r.body }] : []));
  const final = (await api.settled(vm.id)).body;
  return { responses, accepted, final };
}

describe('40 racing actions on one VM', () => {
  it('accepts exactly the ones valid in sequence when tasks settle at once', async () => {
    const { responses, accepted, final } = await race({});
    for (const [i, r] of responses.entries()) {
      // A resize to the flavor the VM already has is a 400, not a state question.
      expect(i % racers.length === 6 ? [200, 400, 409] : [200, 409]).toContain(r.status);
    }
    // Replay the accepted ones, in the order the server answered them, through the table.
    let status: VmStatus = 'RUNNING';
    for (const { action, vm } of accepted.sort((a, b) => a.vm.updated_at.localeCompare(b.vm.updated_at))) {
      const next = transitions[status][action as keyof (typeof transitions)[VmStatus]]?.next;
      expect(next, `${action} from ${status}`).toBeDefined();
      status = next as VmStatus;
      expect(vm.status).toBe(status);
    }
    expect(final.status).toBe(status);
  });

  // The task must outlast the 40 requests even on a loaded machine (300 ms did not, under load 13).
  it('accepts exactly one when the first one leaves a task running', async () => {
    const { responses, accepted, final } = await race({ MOCK_ACTION_DELAY_MS: '3000' });
    expect(accepted).toHaveLength(1);
    const refused = responses.flatMap((r, i) => (r.status >= 400 ? [{ action: racers[i % racers.length], status: r.status, code: (r.body as unknown as ProblemBody).code }] : []));
    expect(refused).toHaveLength(39);
    for (const r of refused) {
      // A resize to the flavor the VM already has is a 400 whenever it is judged, busy or not.
      const expected = r.status === 400 ? { action: 'resize', status: 400, code: 'VALIDATION_ERROR' } : { action: r.action, status: 409, code: expect.stringMatching(/^(TASK_IN_PROGRESS|INVALID_STATE_TRANSITION)$/) };
      expect(r).toEqual(expected);
    }
    const winner = accepted[0]?.action as string;
    expect(final.status).toBe(transitions.RUNNING[winner as 'stop']?.next);
  });
});

describe('tasks in progress', () => {
  it('answers 202 with the task and TASK_IN_PROGRESS to another action, but accepts delete', async () => {
    app = await startApp({ MOCK_ACTION_DELAY_MS: '5000' });
    const api = new ApiClient(app.baseUrl);
    const created = await api.createVm({ name: 'slow', flavor: 'm1.tiny', image: 'debian-12' });
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({ status: 'STOPPED', task: 'creating' });
    const busy = await api.act(created.body.id, 'start');
    expect(busy.status).toBe(409);
    expect(busy.body).toMatchObject({ code: 'TASK_IN_PROGRESS', task: 'creating', allowed_actions: ['delete'] });
    const deleting = await api.deleteVm(created.body.id);
    expect(deleting.status).toBe(202);
    expect(deleting.body.task).toBe('deleting');
    expect((await api.deleteVm(created.body.id)).status).toBe(202);
  });

  it('answers 202 in progress when ?wait is shorter than the task, and 200 settled when it is longer', async () => {
    app = await startApp({ MOCK_ACTION_DELAY_MS: '1500' });
    const api = new ApiClient(app.baseUrl);
    const short = await api.call<VmBody>('POST', '/api/v1/vms?wait=1', { body: { name: 'waited', flavor: 'm1.tiny', image: 'debian-12' } });
    expect([short.status, short.body.task]).toEqual([202, 'creating']);
    const long = await api.call<VmBody>('POST', `/api/v1/vms/${short.body.id}/start?wait=5`);
    expect(long.status).toBe(409); // still creating
    await api.settled(short.body.id);
    const started = await api.call<VmBody>('POST', `/api/v1/vms/${short.body.id}/start?wait=5`);
    expect([started.status, started.body.status, started.body.task]).toEqual([200, 'RUNNING', null]);
  });

  it('clamps Prefer: wait to 120 seconds and refuses ?wait over 120', async () => {
    app = await startApp();
    const api = new ApiClient(app.baseUrl);
    const vm = await api.createSettled({ name: 'clamped', flavor: 'm1.tiny', image: 'debian-12' });
    const preferred = await api.act(vm.id, 'start', undefined, { Prefer: 'respond-async, wait=999' });
    expect(preferred.headers.get('preference-applied')).toBe('wait=120');
    const refused = await api.call<ProblemBody>('POST', `/api/v1/vms/${vm.id}/stop?wait=121`);
    expect(refused.status).toBe(400);
    expect(refused.body.errors?.[0]?.path).toBe('query.wait');
  });

  it('answers a waiting request at once, in progress, when the server shuts down', async () => {
    const running = await startServer(configFrom({ PORT: '0', MOCK_ACTION_DELAY_MS: '60000' }), pino({ level: 'silent' }));
    const api = new ApiClient(`http://127.0.0.1:${running.port}`);
    const waiting = api.call<VmBody>('POST', '/api/v1/vms?wait=120', { body: { name: 'interrupted', flavor: 'm1.tiny', image: 'debian-12' } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    await running.shutdown();
    const response = await waiting;
    expect(Date.now() - started).toBeLessThan(2000);
    expect([response.status, response.body.task]).toEqual([202, 'creating']);
    await expect(api.call('GET', '/healthz')).rejects.toThrow();
  });
});

describe('Idempotency-Key', () => {
  it('answers 409 to a retry while the first request is still in flight', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const backend: Backend = createMemoryBackend(memoryLimits());
    const create = backend.vms.create.bind(backend.vms);
    backend.vms.create = async (scope, input) => {
      await gate;
      return create(scope, input);
    };
    app = await startApp({}, backend);
    const api = new ApiClient(app.baseUrl);
    const body = { name: 'once', flavor: 'm1.tiny', image: 'debian-12' };
    const first = api.createVm(body, { 'Idempotency-Key': 'k-1' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const retry = await api.createVm(body, { 'Idempotency-Key': 'k-1' });
    expect(retry.status).toBe(409);
    expect((retry.body as unknown as ProblemBody).code).toBe('IDEMPOTENCY_KEY_IN_FLIGHT');
    release();
    expect((await first).status).toBe(201);
    const replay = await api.createVm(body, { 'Idempotency-Key': 'k-1' });
    expect(replay.body.id).toBe((await first).body.id);
  });

  it('refuses a malformed key with 400', async () => {
    app = await startApp();
    const response = await new ApiClient(app.baseUrl).createVm({ name: 'k', flavor: 'm1.tiny', image: 'debian-12' }, { 'Idempotency-Key': 'has space' });
    expect(response.status).toBe(400);
    expect((response.body as unknown as ProblemBody).errors?.[0]?.path).toBe('header.Idempotency-Key');
  });
});

describe('pagination under concurrent inserts', () => {
  it('returns every VM that existed before paging began exactly once, while others are created', async () => {
    app = await startApp({ LOG_LEVEL: 'warn', MOCK_QUOTA_INSTANCES: '-1', MOCK_QUOTA_VCPUS: '-1', MOCK_QUOTA_RAM_MB: '-1', MOCK_CAPACITY_VCPUS: '1000', MOCK_IP_CIDR: '10.0.0.0/16' });
    const api = new ApiClient(app.baseUrl);
    const before: string[] = [];
    for (let i = 0; i < 60; i++) before.push((await api.createVm({ name: `p-${i}`, flavor: 'm1.tiny', image: 'debian-12' })).body.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let inserted = 0;
    do {
      const inserts = Array.from({ length: 3 }, () => api.createVm({ name: `late-${inserted++}`, flavor: 'm1.tiny', image: 'debian-12' }));
      const page: { body: { data: VmBody[]; next_cursor: string | null } } = await api.call('GET', `/api/v1/vms?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      await Promise.all(inserts);
      seen.push(...page.body.data.map((v) => v.id));
      cursor = page.body.next_cursor;
    } while (cursor !== null && seen.length < 1000);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.slice(0, before.length)).toEqual(before);
  });
});
