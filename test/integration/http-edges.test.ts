import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ApiClient, type ProblemBody } from '../support/api-client.js';
import { startApp, type RunningApp } from '../support/memory-app.js';

let app: RunningApp;
let api: ApiClient;
beforeAll(async () => {
  app = await startApp();
  api = new ApiClient(app.baseUrl);
});
afterAll(() => app.close());

const vm = () => api.createSettled({ name: 'edge', flavor: 'm1.tiny', image: 'debian-12' });

describe('conditional GET', () => {
  it('answers 304 to If-None-Match with the current ETag, and 200 once the VM changed', async () => {
    const { id } = await vm();
    const etag = (await api.getVm(id)).headers.get('etag') as string;
    const unchanged = await api.call('GET', `/api/v1/vms/${id}`, { headers: { 'If-None-Match': etag } });
    expect(unchanged.status).toBe(304);
    expect(unchanged.headers.get('etag')).toBe(etag);
    await api.act(id, 'start');
    const changed = await api.call('GET', `/api/v1/vms/${id}`, { headers: { 'If-None-Match': etag } });
    expect(changed.status).toBe(200);
  });

  it('acts with If-Match: * on any existing VM, and with a weak or listed ETag that matches', async () => {
    const { id } = await vm();
    expect((await api.act(id, 'start', undefined, { 'If-Match': '*' })).status).toBe(200);
    const etag = (await api.getVm(id)).headers.get('etag') as string;
    expect((await api.act(id, 'stop', undefined, { 'If-Match': `"nope", W/${etag}` })).status).toBe(200);
  });
});

describe('bodies', () => {
  it('answers 415 to JSON in a charset other than UTF-8', async () => {
    const response = await api.call<ProblemBody>('POST', '/api/v1/vms', {
      rawBody: '{"name":"x","flavor":"m1.tiny","image":"debian-12"}',
      headers: { 'content-type': 'application/json; charset=latin1' },
    });
    expect([response.status, response.body.code]).toEqual([415, 'VALIDATION_ERROR']);
  });

  it('answers 400 to a create without a body, and to a JSON array or a stray body on an action', async () => {
    const empty = await api.call<ProblemBody>('POST', '/api/v1/vms');
    expect([empty.status, empty.body.errors?.[0]?.path]).toEqual([400, 'body']);
    const array = await api.call<ProblemBody>('POST', '/api/v1/vms', { body: [1, 2] });
    expect(array.status).toBe(400);
    const { id } = await vm();
    const stray = await api.call<ProblemBody>('POST', `/api/v1/vms/${id}/start`, { body: { force: true } });
    expect([stray.status, stray.body.errors?.[0]?.path]).toEqual([400, 'body.force']);
    const restart = await api.call<ProblemBody>('POST', `/api/v1/vms/${id}/restart`, { body: { type: 'cold' } });
    expect([restart.status, restart.body.errors?.[0]?.path]).toEqual([400, 'body.type']);
  });

  it('answers 400 to a resize without a flavor and to an unknown one', async () => {
    const { id } = await vm();
    const missing = await api.call<ProblemBody>('POST', `/api/v1/vms/${id}/resize`, { body: {} });
    expect([missing.status, missing.body.errors?.[0]]).toEqual([400, { path: 'body.flavor', message: 'required' }]);
    const unknown = await api.call<ProblemBody>('POST', `/api/v1/vms/${id}/resize`, { body: { flavor: 'm9.huge' } });
    expect([unknown.status, unknown.body.code]).toEqual([400, 'UNKNOWN_FLAVOR']);
  });
});

describe('URLs', () => {
  it('answers 400 to a query parameter on an endpoint that takes none', async () => {
    const { id } = await vm();
    const response = await api.call<ProblemBody>('GET', `/api/v1/vms/${id}?verbose=1`);
    expect([response.status, response.body.errors?.[0]]).toEqual([400, { path: 'query.verbose', message: 'unknown parameter' }]);
    expect((await api.call('GET', `/api/v1/vms/${id}?`)).status).toBe(200);
  });

  it('answers a malformed percent-escape in the path with 400, not 500', async () => {
    const response = await api.call<ProblemBody>('GET', '/api/v1/vms/%ZZ');
    expect([response.status, response.body.code, response.body.errors?.[0]?.path]).toEqual([400, 'VALIDATION_ERROR', 'path']);
  });
});

describe('list filters', () => {
  it('refuses more status values than there are statuses before the backend does any work', async () => {
    const list = vi.spyOn(app.backend.vms, 'list');
    try {
      const response = await api.call<ProblemBody>('GET', `/api/v1/vms?status=${Array(2000).fill('STOPPED').join(',')}`);
      expect([response.status, response.body.code]).toEqual([400, 'VALIDATION_ERROR']);
      expect(response.body.errors).toEqual([{ path: 'query.status', message: expect.stringMatching(/at most 6 statuses/) }]);
      expect(list).not.toHaveBeenCalled();
    } finally {
      list.mockRestore();
    }
  });

  it('hands the service each status once', async () => {
    const list = vi.spyOn(app.backend.vms, 'list');
    try {
      const response = await api.call('GET', '/api/v1/vms?status=RUNNING,running&status=ERROR');
      expect(response.status).toBe(200);
      expect(list.mock.calls[0]?.[1].statuses).toEqual(['RUNNING', 'ERROR']);
    } finally {
      list.mockRestore();
    }
  });
});

describe('waiting', () => {
  it('answers a wait over the maximum, or a parameter given twice, with one clear message', async () => {
    const { id } = await vm();
    const tooLong = await api.call<ProblemBody>('POST', `/api/v1/vms/${id}/start?wait=1000`);
    expect([tooLong.status, tooLong.body.errors]).toEqual([400, [{ path: 'query.wait', message: 'must be true, false or a number of seconds from 0 to 120' }]]);
    expect(tooLong.body.detail).toBe('Invalid query: query.wait (must be true, false or a number of seconds from 0 to 120)');
    const twice = await api.call<ProblemBody>('POST', `/api/v1/vms/${id}/start?wait=1&wait=2`);
    expect([twice.status, twice.body.errors]).toEqual([400, [{ path: 'query.wait', message: 'given 2 times; give it once' }]]);
    const limits = await api.call<ProblemBody>('GET', '/api/v1/vms?limit=1&limit=2');
    expect([limits.status, limits.body.errors]).toEqual([400, [{ path: 'query.limit', message: 'given 2 times; give it once' }]]);
  });

  it('waits the number of seconds given, or the default with ?wait=true', async () => {
    const delayed = await startApp({ MOCK_ACTION_DELAY_MS: '50' });
    try {
      const slow = new ApiClient(delayed.baseUrl);
      const created = await slow.call<{ id: string; task: string | null }>('POST', '/api/v1/vms?wait=true', {
        body: { name: 'waited', flavor: 'm1.tiny', image: 'debian-12' },
      });
      expect([created.status, created.body.task]).toEqual([201, null]);
      const started = await slow.call<{ task: string | null }>('POST', `/api/v1/vms/${created.body.id}/start?wait=5`);
      expect([started.status, started.body.task]).toEqual([200, null]);
      const unwaited = await slow.call<{ task: string | null }>('POST', `/api/v1/vms/${created.body.id}/stop?wait=0`);
      expect([unwaited.status, unwaited.body.task]).toEqual([202, 'stopping']);
    } finally {
      await delayed.close();
    }
  });

  it('answers at once with ?wait=false', async () => {
    const { id } = await vm();
    const response = await api.call('POST', `/api/v1/vms/${id}/start?wait=false`);
    expect(response.status).toBe(200);
    expect(response.headers.get('preference-applied')).toBeNull();
  });
});
