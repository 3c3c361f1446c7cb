import { afterEach, describe, expect, it } from 'vitest';
import { transitions } from '../../src/domain/transitions.js';
import { vmActions, vmStatuses, type VmAction, type VmStatus } from '../../src/domain/vm.js';
import { VmSchema } from '../../src/http/schemas.js';
import { ApiClient, type VmBody } from '../support/api-client.js';
import { startApp, type RunningApp } from '../support/memory-app.js';

let app: RunningApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

type Shown = VmBody & { allowed_actions: string[] };

/** How to bring a new VM (m1.tiny, or m1.xlarge for ERROR) to each status the memory backend can reach. */
const pathTo: Record<Exclude<VmStatus, 'ERROR'>, VmAction[]> = {
  STOPPED: [],
  RUNNING: ['start'],
  PAUSED: ['start', 'pause'],
  SUSPENDED: ['start', 'suspend'],
  DELETED: ['delete'],
};

const bodyOf = (action: VmAction): unknown => (action === 'resize' ? { flavor: 'm1.small' } : action === 'restart' ? { type: 'hard' } : undefined);

async function vmIn(api: ApiClient, status: VmStatus, name: string): Promise<Shown> {
  if (status === 'ERROR') return (await api.createSettled({ name, flavor: 'm1.xlarge', image: 'debian-12' })) as Shown;
  let vm = await api.createSettled({ name, flavor: 'm1.tiny', image: 'debian-12' });
  for (const step of pathTo[status]) vm = await api.actAndSettle(vm.id, step, bodyOf(step));
  return vm as Shown;
}

const sorted = (list: readonly string[]) => [...list].sort();

describe('allowed_actions on every VM resource', () => {
  it.each([...vmStatuses])('a settled %s VM lists exactly the actions it then accepts', async (status) => {
    // 4 vCPUs of capacity: m1.xlarge (8) cannot be placed and settles in ERROR, never placed.
    app = await startApp({ LOG_LEVEL: 'warn', MOCK_CAPACITY_VCPUS: '4' });
    const api = new ApiClient(app.baseUrl);
    const shown = await vmIn(api, status, `probe-${status.toLowerCase()}`);
    expect(shown.status).toBe(status);
    const fetched = (await api.getVm(shown.id)).body as Shown;
    expect(VmSchema.safeParse(fetched).success).toBe(true);
    const placed = status !== 'ERROR';
    const fromTable = Object.entries(transitions[status]).filter(([, t]) => placed || !t.placedOnly).map(([a]) => a);
    expect(sorted(fetched.allowed_actions)).toEqual(sorted(fromTable));

    for (const action of vmActions) {
      const vm = await vmIn(api, status, `try-${action}`);
      const response = action === 'delete' ? await api.deleteVm(vm.id) : await api.act(vm.id, action, bodyOf(action));
      const listed = fetched.allowed_actions.includes(action);
      expect([action, response.status < 300]).toEqual([action, listed]);
      if (!listed) expect(response.status).toBe(409);
      await api.deleteVm(vm.id);
    }
  });

  it('while a task runs, the VM (created, fetched or listed) lists only delete', async () => {
    app = await startApp({ LOG_LEVEL: 'warn', MOCK_ACTION_DELAY_MS: '60000' });
    const api = new ApiClient(app.baseUrl);
    const created = await api.createVm({ name: 'busy', flavor: 'm1.tiny', image: 'debian-12' });
    expect([created.status, created.body.task]).toEqual([202, 'creating']);
    expect((created.body as Shown).allowed_actions).toEqual(['delete']);
    expect(((await api.getVm(created.body.id)).body as Shown).allowed_actions).toEqual(['delete']);
    const listed = await api.call<{ data: Shown[] }>('GET', '/api/v1/vms');
    expect(listed.body.data.map((vm) => vm.allowed_actions)).toEqual([['delete']]);
    const stop = await api.act(created.body.id, 'stop');
    expect(stop.body).toMatchObject({ code: 'TASK_IN_PROGRESS', allowed_actions: ['delete'] });
  });
});

describe('the action endpoints in /openapi.json', () => {
  it('each summary names exactly the statuses the transition table allows the action from', async () => {
    app = await startApp({ LOG_LEVEL: 'warn' });
    const doc = (await new ApiClient(app.baseUrl).call<{ paths: Record<string, Record<string, { summary: string }>> }>('GET', '/openapi.json')).body;
    for (const action of vmActions) {
      const operation = action === 'delete' ? doc.paths['/api/v1/vms/{id}']?.delete : doc.paths[`/api/v1/vms/{id}/${action}`]?.post;
      const named = vmStatuses.filter((status) => new RegExp(`\\b${status}\\b`).test(operation?.summary ?? ''));
      const fromTable = vmStatuses.filter((status) => transitions[status][action] !== undefined);
      expect([action, named]).toEqual([action, fromTable]);
    }
  });
});
