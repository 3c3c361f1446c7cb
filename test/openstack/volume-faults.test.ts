import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ProblemBody } from '../support/api-client.js';
import { startApp, type RunningApp } from '../support/memory-app.js';
import { apiEnv, loadStack } from './support/fault-env.js';
import { FaultProxy } from './support/fault-proxy.js';

/**
 * Cinder's faults through a loopback proxy (support/fault-proxy.ts): a Keystone proxy re-points
 * the catalog's block-storage endpoint at a Cinder proxy, and each test switches one fault on,
 * checks the API's answer (BACKEND=openstack), switches it off and checks recovery.
 */
const loaded = loadStack();
if (typeof loaded === 'string') throw new Error(loaded);
const stack = loaded;
const TIMEOUT_MS = Number(process.env.FAULTS_TIMEOUT_MS ?? 8_000);
const VOLUMES = /\/v3\/[0-9a-f]+\/volumes$/;
const VOLUME_ONE = /\/v3\/[0-9a-f]+\/volumes\/[0-9a-f-]{36}$/;

describe('Cinder faults, through the API (BACKEND=openstack)', () => {
  let keystone: FaultProxy;
  let cinder: FaultProxy;
  let app: RunningApp;
  let api: ApiClient;
  const made: string[] = [];
  const name = () => `vf-${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    cinder = await FaultProxy.start({ name: 'cinder', upstream: new URL(stack.endpoints['block-storage'] ?? '').origin });
    keystone = await FaultProxy.start({ name: 'keystone', upstream: new URL(stack.authUrl).origin, catalogRewrite: () => ({ 'block-storage': cinder.origin }) });
    const authUrl = `${keystone.origin}${new URL(stack.authUrl).pathname.replace(/\/+$/, '')}`;
    app = await startApp(apiEnv(stack, { OS_AUTH_URL: authUrl, OS_TIMEOUT_MS: String(TIMEOUT_MS), LOG_LEVEL: 'warn' }));
    api = new ApiClient(app.baseUrl);
  });

  afterEach(() => {
    cinder.clearFaults();
  });

  afterAll(async () => {
    for (const id of made) await api.call('DELETE', `/api/v1/volumes/${id}`);
    await app?.close();
    await Promise.all([keystone?.close(), cinder?.close()]);
  });

  it('answers a Cinder 503 on create with 502 BACKEND_UNAVAILABLE (upstream error), then recovers', async () => {
    cinder.inject({ method: 'POST', path: VOLUMES, fault: { kind: 'status', status: 503 }, times: 1 });
    const refused = await api.call<ProblemBody>('POST', '/api/v1/volumes', { body: { name: name(), size_gb: 1 } });
    expect(refused.status).toBe(502);
    expect(refused.body).toMatchObject({ code: 'BACKEND_UNAVAILABLE', upstream: 'error' });
    const created = await api.call<{ id: string }>('POST', '/api/v1/volumes', { body: { name: name(), size_gb: 1 } });
    expect([201, 202]).toContain(created.status);
    made.push(created.body.id);
  });

  it('answers Cinder\'s quota refusal (413) with 403 QUOTA_EXCEEDED', async () => {
    cinder.inject({
      method: 'POST',
      path: VOLUMES,
      fault: { kind: 'status', status: 413, body: { overLimit: { code: 413, message: 'VolumeLimitExceeded: Maximum number of volumes allowed (10) exceeded for quota volumes.' } } },
      times: 1,
    });
    const refused = await api.call<ProblemBody>('POST', '/api/v1/volumes', { body: { name: name(), size_gb: 1 } });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('QUOTA_EXCEEDED');
  });

  it('answers a Cinder that does not answer in time with 504 BACKEND_TIMEOUT, and one that drops the connection with 503', async () => {
    const created = await api.call<{ id: string }>('POST', '/api/v1/volumes', { body: { name: name(), size_gb: 1 } });
    made.push(created.body.id);
    cinder.inject({ method: 'GET', path: VOLUME_ONE, fault: { kind: 'delay', ms: TIMEOUT_MS * 4 } });
    const slow = await api.call<ProblemBody>('GET', `/api/v1/volumes/${created.body.id}`);
    expect(slow.status).toBe(504);
    expect(slow.body.code).toBe('BACKEND_TIMEOUT');
    cinder.clearFaults();
    cinder.inject({ method: 'GET', path: VOLUME_ONE, fault: { kind: 'reset', when: 'before' } });
    const dropped = await api.call<ProblemBody>('GET', `/api/v1/volumes/${created.body.id}`);
    expect(dropped.status).toBe(503);
    expect(dropped.body).toMatchObject({ code: 'BACKEND_UNAVAILABLE', upstream: 'unreachable' });
    cinder.clearFaults();
    expect((await api.call('GET', `/api/v1/volumes/${created.body.id}`)).status).toBe(200);
  });
});
