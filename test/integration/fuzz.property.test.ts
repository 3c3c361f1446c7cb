import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../support/api-client.js';
import { startApp, type RunningApp } from '../support/memory-app.js';

let app: RunningApp;
let api: ApiClient;
let vmId: string;
beforeAll(async () => {
  app = await startApp({ LOG_LEVEL: 'silent', MOCK_QUOTA_INSTANCES: '-1', MOCK_QUOTA_VCPUS: '-1', MOCK_QUOTA_RAM_MB: '-1', MOCK_CAPACITY_VCPUS: '100000', MOCK_IP_CIDR: '10.0.0.0/12' });
  api = new ApiClient(app.baseUrl);
  vmId = (await api.createVm({ name: 'target', flavor: 'm1.tiny', image: 'debian-12' })).body.id;
});
afterAll(() => app.close());

const segment = fc.oneof(fc.string(), fc.uuid(), fc.constantFrom('start', 'stop', 'restart', 'resize', '..', '%', '%00', '%ZZ'));
const pathOf = (parts: string[]) => parts.map((p) => encodeURIComponent(p).replace(/^%25/, '%')).join('/');

const requests = fc.record({
  method: fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH'),
  path: fc.oneof(
    fc.constantFrom('/api/v1/vms', '/api/v1/flavors', '/api/v1/images'),
    fc.constantFrom('start', 'stop', 'restart', 'pause', 'resume', 'suspend', 'resize').map((a) => `/api/v1/vms/{vm}/${a}`),
    fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => `/api/v1/vms/${pathOf(parts)}`),
  ),
  query: fc.dictionary(fc.constantFrom('limit', 'cursor', 'status', 'name', 'wait', 'x', 'limit[]'), fc.string(), { maxKeys: 3 }),
  body: fc.option(fc.oneof(fc.jsonValue(), fc.record({ name: fc.string(), flavor: fc.string(), image: fc.string(), start: fc.jsonValue() }, { requiredKeys: [] })), { nil: undefined }),
  rawBody: fc.option(fc.string(), { nil: undefined }),
  contentType: fc.constantFrom('application/json', 'text/plain', 'application/json; charset=utf-16', 'application/merge-patch+json', ''),
  headers: fc.dictionary(fc.constantFrom('If-Match', 'If-None-Match', 'Prefer', 'Idempotency-Key', 'X-Request-Id'), fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,40}[\x21-\x7e])?$/), { maxKeys: 3 }),
});

describe('fuzzing the HTTP API', () => {
  it('answers any request with a JSON status below 500, and keeps serving', async () => {
    await fc.assert(
      fc.asyncProperty(requests, async (r) => {
        const query = new URLSearchParams(r.query).toString();
        const path = r.path.replace('{vm}', vmId) + (query ? `?${query}` : '');
        const headers: Record<string, string> = { ...r.headers };
        if (r.contentType) headers['content-type'] = r.contentType;
        // fetch sends no body with GET; the server never sees one there.
        const body = r.method === 'GET' ? undefined : (r.rawBody ?? (r.body === undefined ? undefined : JSON.stringify(r.body)));
        const response = await api.call(r.method, path, { ...(body !== undefined && { rawBody: body }), headers });
        expect(response.status, `${r.method} ${path} ${body ?? ''}`).toBeLessThan(500);
        if (response.status >= 400) expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      }),
      { numRuns: 400 },
    );
    expect((await api.getVm(vmId)).status).toBe(200);
  });
});
