import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryBackend } from '../../src/backends/memory/memory-backend.js';
import type { Backend } from '../../src/repository/backend.js';
import { ApiError } from '../../src/domain/errors.js';
import { ApiClient, type ProblemBody } from '../support/api-client.js';
import { startApp, type RunningApp } from '../support/memory-app.js';
import { memoryLimits } from '../support/memory-limits.js';

let app: RunningApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const limits = memoryLimits();

/** A memory backend whose VM listing fails the way `failure` says. */
function backendFailingWith(failure: unknown): Backend {
  const backend = createMemoryBackend(limits);
  backend.vms.list = () => Promise.reject(failure);
  return backend;
}

describe('errors from below the service', () => {
  it.each([
    ['an unreachable cloud', new ApiError('BACKEND_UNAVAILABLE', 'nova unreachable', { upstream: 'unreachable' }), 503, 'BACKEND_UNAVAILABLE'],
    ['a cloud answering 5xx', new ApiError('BACKEND_UNAVAILABLE', 'nova answered 500', { upstream: 'error' }), 502, 'BACKEND_UNAVAILABLE'],
    ['a cloud timing out', new ApiError('BACKEND_TIMEOUT', 'nova timed out'), 504, 'BACKEND_TIMEOUT'],
  ])('answers %s with %i %s', async (_what, failure, status, code) => {
    app = await startApp({}, backendFailingWith(failure));
    const response = await new ApiClient(app.baseUrl).call<ProblemBody>('GET', '/api/v1/vms');
    expect([response.status, response.body.code]).toEqual([status, code]);
  });

  it('answers an unexpected error with 500 INTERNAL_ERROR, no stack or message in the body, and logs it with the request id', async () => {
    app = await startApp({}, backendFailingWith(new TypeError('secret internal detail at /srv/app.js:12')));
    const response = await new ApiClient(app.baseUrl).call<ProblemBody>('GET', '/api/v1/vms');
    expect(response.status).toBe(500);
    expect(response.body.code).toBe('INTERNAL_ERROR');
    expect(JSON.stringify(response.body)).not.toMatch(/secret internal detail|app\.js|TypeError/);
    const logged = app.logs.find((l) => l.msg === 'unhandled error');
    expect(logged?.request_id).toBe(response.body.request_id);
  });
});

describe('readiness', () => {
  it('answers /readyz 200 with the backend name when it is reachable', async () => {
    app = await startApp();
    const response = await new ApiClient(app.baseUrl).call('GET', '/readyz');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'ready', backend: 'memory' });
  });

  it('answers /readyz 503 problem+json naming the dependency that failed', async () => {
    const backend = createMemoryBackend(limits);
    backend.checkReady = async () => ({ ready: false, checks: [{ name: 'nova', ok: false, detail: 'connection refused' }] });
    app = await startApp({}, backend);
    const response = await new ApiClient(app.baseUrl).call<ProblemBody>('GET', '/readyz');
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(response.body.detail).toBe('Not ready: nova: connection refused');
  });

  it('answers /readyz with a problem, not a crash, when the check itself throws', async () => {
    const backend = createMemoryBackend(limits);
    backend.checkReady = () => Promise.reject(new Error('boom'));
    app = await startApp({}, backend);
    expect((await new ApiClient(app.baseUrl).call('GET', '/readyz')).status).toBe(500);
    expect((await new ApiClient(app.baseUrl).call('GET', '/healthz')).status).toBe(200);
  });
});
