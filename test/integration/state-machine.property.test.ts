import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transitions } from '../../src/domain/transitions.js';
import { vmActions, type VmAction, type VmStatus } from '../../src/domain/vm.js';
import { ApiClient } from '../support/api-client.js';
import { startApp, type RunningApp } from '../support/memory-app.js';

let app: RunningApp;
let api: ApiClient;
beforeAll(async () => {
  app = await startApp({
    LOG_LEVEL: 'warn',
    MOCK_EXTRA_FLAVORS: 'huge:1:1000000:1',
    MOCK_QUOTA_INSTANCES: '-1',
    MOCK_QUOTA_VCPUS: '-1',
    MOCK_QUOTA_RAM_MB: '-1',
    MOCK_IP_CIDR: '10.0.0.0/16',
    MOCK_CAPACITY_VCPUS: '100000',
  });
  api = new ApiClient(app.baseUrl);
});
afterAll(() => app.close());

const flavors = ['m1.tiny', 'm1.small'] as const;

const step = fc.record({
  action: fc.constantFrom(...vmActions),
  hard: fc.boolean(),
  flavor: fc.constantFrom(...flavors),
});

/** What the transition table says the API must answer, and where the VM must end up. */
function model(state: { status: VmStatus; flavor: string; placed: boolean }, s: { action: VmAction; hard: boolean; flavor: string }) {
  const transition = transitions[state.status][s.action];
  if (!transition) return { code: 409 };
  if (transition.placedOnly && !state.placed) return { code: 409 };
  if (transition.hardOnly && !s.hard) return { code: 409 };
  if (s.action === 'resize' && s.flavor === state.flavor) return { code: 400 };
  return { code: 200, status: transition.next, flavor: s.action === 'resize' ? s.flavor : state.flavor };
}

describe('the API against a model of the transition table', () => {
  it('agrees with the model on every answer and every resulting state, for random action sequences', async () => {
    let counter = 0;
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.boolean(), fc.array(step, { minLength: 1, maxLength: 12 }), async (startIt, unplaceable, steps) => {
        const flavor = unplaceable ? 'huge' : 'm1.tiny';
        const created = await api.createVm({ name: `prop-${++counter}`, flavor, image: 'cirros-0.6', start: startIt });
        const state = {
          status: (unplaceable ? 'ERROR' : startIt ? 'RUNNING' : 'STOPPED') as VmStatus,
          flavor,
          placed: !unplaceable,
        };
        expect(created.body.status).toBe(state.status);
        for (const s of steps) {
          const body = s.action === 'resize' ? { flavor: s.flavor } : s.action === 'restart' ? { type: s.hard ? 'hard' : 'soft' } : undefined;
          const response = s.action === 'delete' ? await api.deleteVm(created.body.id) : await api.act(created.body.id, s.action, body);
          const expected = model(state, s);
          expect({ step: s, from: state.status, code: response.status }).toEqual({ step: s, from: state.status, code: expected.code });
          if (expected.code === 200) {
            state.status = expected.status as VmStatus;
            state.flavor = expected.flavor as string;
          }
          const now = (await api.getVm(created.body.id)).body;
          expect({ status: now.status, flavor: now.flavor }).toEqual({ status: state.status, flavor: state.flavor });
        }
      }),
      { numRuns: 150 },
    );
    // About 2,000 requests: seconds on an idle machine, but CI machines are shared.
  }, 90_000);
});
