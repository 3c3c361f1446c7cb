import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, matchesName, novaNameFilter } from '../../../src/backends/openstack/list-query.js';
import { idempotencyTag, marks } from '../../../src/backends/openstack/marks.js';
import { POWER_SHUTDOWN, novaStatusToVm, novaTaskStateToTask, readNovaState } from '../../../src/backends/openstack/nova-status.js';
import { FAULT_GRACE_MS, serverToRecord } from '../../../src/backends/openstack/server-record.js';
import { toApiError } from '../../../src/backends/openstack/upstream-errors.js';
import {
  OpenStackConnectionError,
  OpenStackEndpointNotFoundError,
  OpenStackHttpError,
  OpenStackShapeError,
  OpenStackTimeoutError,
  serverSchema,
  type Server,
} from '../../../src/openstack/index.js';
import { ApiError } from '../../../src/domain/errors.js';
import { vmStatuses, vmTasks } from '../../../src/domain/vm.js';
import { fixture } from '../openstack/fixtures.js';

/** Long after every recorded fixture was updated. */
const LATER = Date.parse('2026-11-24T00:00:00Z');
const names = { flavorName: (id: string) => `flavor-${id}`, imageName: (id: string) => (id === '12872816-1e08-4e01-b7f3-dc1e25267bcc' ? 'cirros-0.6' : id) };
const silent = pino({ level: 'silent' });

function recorded(name: string): Server {
  return serverSchema.parse(fixture<{ server: unknown }>(name).server);
}

const activeServer = () => recorded('compute-server-ACTIVE.json');

describe('novaStatusToVm: the status table', () => {
  for (const [novaStatus, reading] of Object.entries(novaStatusToVm)) {
    for (const power of [1, POWER_SHUTDOWN]) {
      it(`reads ${novaStatus} (power ${power}) with no task_state as ${reading.status === 'power' ? (power === POWER_SHUTDOWN ? 'STOPPED' : 'RUNNING') : reading.status} / ${reading.task}`, () => {
        const read = readNovaState({ status: novaStatus, taskState: null, powerState: power });
        expect(read.known).toBe(true);
        expect(vmStatuses).toContain(read.status);
        expect(read.task).toBe(reading.task);
        if (reading.status !== 'power') expect(read.status).toBe(reading.status);
        else expect(read.status).toBe(power === POWER_SHUTDOWN ? 'STOPPED' : 'RUNNING');
      });
    }
  }

  for (const [taskState, task] of Object.entries(novaTaskStateToTask)) {
    it(`reads task_state ${taskState} as the task ${task}, keeping the status`, () => {
      expect(vmTasks).toContain(task);
      expect(readNovaState({ status: 'ACTIVE', taskState, powerState: 1 })).toEqual({ status: 'RUNNING', task, known: true });
    });
  }

  it.each(['RESCUE', 'SHELVED_OFFLOADED', 'UNKNOWN', 'constructor', ''])('reads an unknown Nova status (%j) as ERROR, not a crash', (status) => {
    expect(readNovaState({ status, taskState: null, powerState: 1 })).toEqual({ status: 'ERROR', task: null, known: false });
  });

  it('is the table ARCHITECTURE.md shows, row by row', () => {
    const doc = readFileSync(new URL('../../../ARCHITECTURE.md', import.meta.url), 'utf8');
    for (const [novaStatus, r] of Object.entries(novaStatusToVm)) {
      const shown = r.status === 'power' ? 'last settled: `STOPPED` if power_state is 4 (shut down), else `RUNNING`' : `\`${r.status}\``;
      expect(doc).toContain(`| \`${novaStatus}\` | ${shown} | \`${r.task}\` |`);
    }
    for (const taskState of Object.keys(novaTaskStateToTask)) expect(doc).toContain(`\`${taskState}\``);
  });

  it('keeps the status for a task_state it does not know (Nova itself refuses actions meanwhile)', () => {
    expect(readNovaState({ status: 'SHUTOFF', taskState: 'image_snapshot', powerState: 4 })).toEqual({ status: 'STOPPED', task: null, known: true });
  });
});

describe('serverToRecord', () => {
  const fixturesDir = fileURLToPath(new URL('../../fixtures/openstack/', import.meta.url));
  const serverFiles = readdirSync(fixturesDir).filter((f) => /^compute-server-[A-Z]|^compute-server-task/.test(f));
  const expected: Record<string, [string, string | null]> = {
    ACTIVE: ['RUNNING', null],
    BUILD: ['STOPPED', 'creating'],
    SHUTOFF: ['STOPPED', null],
    PAUSED: ['PAUSED', null],
    SUSPENDED: ['SUSPENDED', null],
    VERIFY_RESIZE: ['RUNNING', 'resizing'],
    ERROR: ['ERROR', null],
  };

  it.each(serverFiles)('maps the recorded %s', (file) => {
    const server = recorded(file);
    const { vm, version, placed } = serverToRecord(server, names, LATER);
    const [status, task] = server['OS-EXT-STS:task_state'] === 'powering-off' ? ['RUNNING', 'stopping'] : (expected[server.status] ?? []);
    expect({ status: vm.status, task: vm.task }).toEqual({ status, task });
    expect(vm.id).toBe(server.id);
    expect(vm.flavor).toMatch(/^(m1\.|huge)/);
    expect(Date.parse(vm.created_at)).not.toBeNaN();
    expect(vm.updated_at).toMatch(/Z$/);
    expect(version).toMatch(/^[\w-]{22}$/);
    if (vm.status === 'ERROR') {
      expect(vm.fault).toMatchObject({ code: 'NO_VALID_HOST', message: expect.stringContaining(vm.flavor) });
      expect(placed).toBe(false);
    } else {
      expect(vm.fault).toBeNull();
    }
    if (server.status === 'ACTIVE' && Object.keys(server.addresses).length > 0) expect(vm.ip_address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  });

  it('names the image from the catalog and the flavor from the embedded flavor', () => {
    expect(serverToRecord(activeServer(), names, LATER).vm).toMatchObject({ image: 'cirros-0.6', flavor: 'm1.tiny', ip_address: '10.0.0.229', status: 'RUNNING' });
  });

  it('names the flavor by id from the catalog before microversion 2.47, and shows no image for a volume-booted server', () => {
    const server = { ...activeServer(), flavor: { id: '2' }, image: '' as const };
    expect(serverToRecord(server, names, LATER).vm).toMatchObject({ flavor: 'flavor-2', image: '' });
  });

  it('shows a server marked start=false as STOPPED creating while Nova has it ACTIVE or powering off', () => {
    const marked = { ...activeServer(), tags: [marks.startFalse] };
    expect(serverToRecord(marked, names, LATER).vm).toMatchObject({ status: 'STOPPED', task: 'creating' });
    const stopping = { ...marked, 'OS-EXT-STS:task_state': 'powering-off' };
    expect(serverToRecord(stopping, names, LATER).vm).toMatchObject({ status: 'STOPPED', task: 'creating' });
    const deleting = { ...marked, 'OS-EXT-STS:task_state': 'deleting' };
    expect(serverToRecord(deleting, names, LATER).vm.task).toBe('deleting');
  });

  it('shows the stop of a PAUSED VM as stopping throughout, the unpause included', () => {
    const server = { ...recorded('compute-server-PAUSED.json'), tags: [marks.stopAfterUnpause], 'OS-EXT-STS:task_state': 'unpausing' };
    expect(serverToRecord(server, names, LATER).vm).toMatchObject({ status: 'PAUSED', task: 'stopping' });
  });

  it('shows an unplaced ERROR server whose fault Nova has not written yet as still creating, for a grace period', () => {
    const failed = recorded('compute-server-ERROR-novalidhost.json');
    const { fault: _fault, ...faultless } = failed;
    const updated = Date.parse(`${faultless.updated.replace(/Z$/, '')}Z`);
    expect(serverToRecord(faultless, names, updated + 1_000).vm).toMatchObject({ status: 'STOPPED', task: 'creating', fault: null });
    expect(serverToRecord(faultless, names, updated + FAULT_GRACE_MS).vm).toMatchObject({ status: 'ERROR', task: null, fault: { code: 'CLOUD_FAULT' } });
    expect(serverToRecord(failed, names, updated + 1_000).vm).toMatchObject({ status: 'ERROR', fault: { code: 'NO_VALID_HOST' } });
    expect(serverToRecord(faultless, names, updated + 1_000).version).not.toBe(serverToRecord(failed, names, updated + 1_000).version);
  });

  it('gives an ERROR without a known fault a stable code, and an unknown status an UNSUPPORTED_STATE fault', () => {
    const failed = { ...activeServer(), status: 'ERROR', fault: { code: 500, message: 'Exceeded maximum number of retries.', created: '2026-11-23T19:07:02Z' } };
    expect(serverToRecord(failed, names, LATER).vm.fault?.code).toBe('BUILD_RETRIES_EXCEEDED');
    const other = { ...activeServer(), status: 'ERROR', fault: { code: 500, message: 'Traceback: boom', created: '2026-11-23T19:07:02Z' } };
    expect(serverToRecord(other, names, LATER).vm.fault).toMatchObject({ code: 'CLOUD_FAULT', message: expect.not.stringContaining('Traceback') });
    const bare = { ...activeServer(), status: 'ERROR' };
    expect(serverToRecord(bare, names, LATER).vm.fault).toMatchObject({ code: 'CLOUD_FAULT', at: '2026-11-23T19:06:55.000Z' });
    const rescue = { ...activeServer(), status: 'RESCUE' };
    expect(serverToRecord(rescue, names, LATER)).toMatchObject({ vm: { status: 'ERROR', fault: { code: 'UNSUPPORTED_STATE' } }, placed: true });
  });

  it('changes the version with the revision mark, the state or the update time, and not otherwise', () => {
    const base = activeServer();
    const v = serverToRecord(base, names, LATER).version;
    expect(serverToRecord(structuredClone(base), names, LATER).version).toBe(v);
    expect(serverToRecord({ ...base, metadata: { [marks.revision]: 'x' } }, names, LATER).version).not.toBe(v);
    expect(serverToRecord({ ...base, 'OS-EXT-STS:task_state': 'pausing' }, names, LATER).version).not.toBe(v);
    expect(serverToRecord({ ...base, updated: '2026-11-23T19:06:56Z' }, names, LATER).version).not.toBe(v);
  });

  it('reads timestamps without a zone as UTC and leaves unreadable ones alone', () => {
    expect(serverToRecord({ ...activeServer(), created: '2026-11-23T19:06:55.000000' }, names, LATER).vm.created_at).toBe('2026-11-23T19:06:55.000Z');
    expect(serverToRecord({ ...activeServer(), created: 'soon' }, names, LATER).vm.created_at).toBe('soon');
  });

  it('takes only a fixed IPv4 address', () => {
    const addresses = { public: [{ addr: 'fe80::1', version: 6 }, { addr: '203.0.113.9', version: 4, 'OS-EXT-IPS:type': 'floating' }] };
    expect(serverToRecord({ ...activeServer(), addresses }, names, LATER).vm.ip_address).toBeNull();
  });
});

describe('marks, cursors and name filters', () => {
  it('derives an idempotency tag that Nova accepts (at most 60 characters, no "/" or ",") from any key', () => {
    for (const key of ['k', 'a/b,c', 'x'.repeat(500), 'ключ']) {
      const tag = idempotencyTag(key);
      expect(tag.length).toBeLessThanOrEqual(60);
      expect(tag).not.toMatch(/[/,]/);
    }
    expect(idempotencyTag('a')).not.toBe(idempotencyTag('b'));
  });

  it('round-trips a cursor and refuses one it did not make', () => {
    const id = 'ce287d1e-0ae2-4119-9835-885729fc4433';
    expect(decodeCursor(encodeCursor('live', id))).toEqual({ phase: 'live', marker: id });
    expect(decodeCursor(encodeCursor('deleted'))).toEqual({ phase: 'deleted', marker: undefined });
    for (const bad of ['not-a-cursor', encodeCursor('live'), Buffer.from('o1:l:../../x').toString('base64url'), '']) {
      expect(() => decodeCursor(bad)).toThrow(ApiError);
    }
  });

  it.each([
    [{ value: 'vm.1-a', prefix: false }, '^vm\\.1\\-a$'],
    [{ value: 'web-', prefix: true }, '^web\\-'],
    [{ value: 'a(b)*[c]+?{d}|e^$\\/', prefix: false }, '^a\\(b\\)\\*\\[c\\]\\+\\?\\{d\\}\\|e\\^\\$\\\\\\/$'],
  ])('escapes %j for Nova as %s, a regex that matches it literally', (filter, expected) => {
    const regex = novaNameFilter(filter);
    expect(regex).toBe(expected);
    expect(new RegExp(regex).test(filter.value)).toBe(true);
    expect(new RegExp(regex).test(`x${filter.value}`)).toBe(false);
  });

  it('filters names exactly or by prefix on our side too', () => {
    expect(matchesName('web-1', { value: 'web-1', prefix: false })).toBe(true);
    expect(matchesName('web-10', { value: 'web-1', prefix: false })).toBe(false);
    expect(matchesName('web-10', { value: 'web-1', prefix: true })).toBe(true);
  });
});

describe('toApiError', () => {
  const site = { service: 'compute', method: 'POST', path: '/servers', requestId: 'req-1' };
  const http = (status: number, message: string) => new OpenStackHttpError(site, status, { kind: 'x', message }, 'req-up');
  const cases: [string, unknown, { vmId?: string }, string, Record<string, unknown>?][] = [
    ['a quota 403', http(403, 'Quota exceeded for cores: Requested 500'), {}, 'QUOTA_EXCEEDED'],
    ['a policy 403', http(403, 'Policy does not allow'), {}, 'BACKEND_UNAVAILABLE', { upstream: 'error' }],
    ['a 404 on a VM', http(404, 'Instance could not be found'), { vmId: 'v1' }, 'VM_NOT_FOUND'],
    ['a 404 elsewhere', http(404, 'nope'), {}, 'BACKEND_UNAVAILABLE', { upstream: 'error' }],
    ['a 409 naming a task_state', http(409, "Cannot 'stop' instance x while it is in task_state powering-off"), { vmId: 'v1' }, 'TASK_IN_PROGRESS'],
    ['a 409 naming a vm_state', http(409, "Cannot 'start' instance x while it is in vm_state active"), { vmId: 'v1' }, 'INVALID_STATE_TRANSITION'],
    ['a 500', http(500, 'Unexpected API Error'), {}, 'BACKEND_UNAVAILABLE', { upstream: 'error' }],
    ['a timeout', new OpenStackTimeoutError(site, 10), {}, 'BACKEND_TIMEOUT'],
    ['a refused connection', new OpenStackConnectionError(site, 'ECONNREFUSED', new Error('x')), {}, 'BACKEND_UNAVAILABLE', { upstream: 'unreachable' }],
    ['a missing endpoint', new OpenStackEndpointNotFoundError('compute', 'public', 'R', []), {}, 'BACKEND_UNAVAILABLE', { upstream: 'unreachable' }],
    ['a malformed answer', new OpenStackShapeError('compute server', [{ path: 'id', message: 'missing' }]), {}, 'BACKEND_UNAVAILABLE', { upstream: 'error' }],
  ];
  it.each(cases)('maps %s to its code, never quoting upstream text', (_what, err, call, code, extras = {}) => {
    const mapped = toApiError(err, { operation: 'test', ...call }, silent) as ApiError;
    expect(mapped).toBeInstanceOf(ApiError);
    expect(mapped.code).toBe(code);
    expect(mapped.extras).toMatchObject(extras);
    expect(mapped.detail).not.toMatch(/Quota exceeded for|Policy|task_state|Unexpected API Error|powering/);
  });

  it('passes ApiErrors and foreign errors through unchanged', () => {
    const api = new ApiError('VM_NOT_FOUND', 'x');
    const bug = new TypeError('bug');
    expect(toApiError(api, { operation: 't' }, silent)).toBe(api);
    expect(toApiError(bug, { operation: 't' }, silent)).toBe(bug);
  });
});
