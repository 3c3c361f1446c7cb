import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problemCatalog, slugOf } from '../../src/http/problem-catalog.js';
import type { ErrorCode } from '../../src/domain/errors.js';
import { ApiClient } from '../support/api-client.js';
import { startApp, type RunningApp } from '../support/memory-app.js';

let app: RunningApp;
let api: ApiClient;
beforeAll(async () => {
  app = await startApp();
  api = new ApiClient(app.baseUrl);
});
afterAll(() => app.close());

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, { operationId?: string; responses: Record<string, { content?: Record<string, unknown> }>; requestBody?: unknown }>>;
  components: { schemas: Record<string, unknown> };
}

describe('the OpenAPI document', () => {
  let doc: OpenApiDocument;
  beforeAll(async () => {
    doc = (await api.call<OpenApiDocument>('GET', '/openapi.json')).body;
  });

  it('is OpenAPI 3.1 and documents every endpoint of the contract', () => {
    expect(doc.openapi).toBe('3.1.0');
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    expect(operations).toEqual(
      expect.arrayContaining([
        'POST /api/v1/vms',
        'GET /api/v1/vms',
        'GET /api/v1/vms/{id}',
        'DELETE /api/v1/vms/{id}',
        ...['start', 'stop', 'restart', 'pause', 'resume', 'suspend', 'resize'].map((a) => `POST /api/v1/vms/{id}/${a}`),
        'GET /api/v1/flavors',
        'GET /api/v1/flavors/{nameOrId}',
        'GET /api/v1/images',
        'GET /api/v1/images/{nameOrId}',
        'GET /healthz',
        'GET /readyz',
        'GET /metrics',
      ]),
    );
  });

  it('documents the problems each API endpoint can answer with, as problem+json', () => {
    const create = doc.paths['/api/v1/vms']?.post;
    expect(Object.keys(create?.responses ?? {})).toEqual(expect.arrayContaining(['201', '202', '400', '401', '403', '409', '413', '415', '422', '429', '500', '503', '504']));
    expect(create?.responses['409']?.content).toHaveProperty(['application/problem+json']);
    const pause = doc.paths['/api/v1/vms/{id}/pause']?.post;
    expect(Object.keys(pause?.responses ?? {})).toEqual(expect.arrayContaining(['200', '202', '404', '409', '412']));
  });

  const createBodySchema = () =>
    (doc.paths['/api/v1/vms']?.post?.requestBody as { content: Record<string, { schema: Record<string, unknown> }> }).content['application/json']?.schema;

  it('generates its schemas from the validating zod schemas, request bodies inline', () => {
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['Vm', 'VmList', 'Problem', 'Flavor', 'Image']));
    expect(createBodySchema()).toMatchObject({ additionalProperties: false, required: ['name', 'flavor', 'image'], properties: { start: { default: false } } });
  });

  it('has a create example that works when sent as is', async () => {
    const example = createBodySchema()?.example as Record<string, unknown>;
    const response = await api.createVm(example);
    expect(response.status).toBe(201);
  });

  it('serves Swagger UI at /docs', async () => {
    const response = await api.call('GET', '/docs');
    expect(response.status).toBe(200);
    expect(String(response.body)).toMatch(/swagger-ui/i);
  });
});

describe('problem types', () => {
  it('serves a page for every problem type at its /errors/{slug} URI', async () => {
    for (const code of Object.keys(problemCatalog) as ErrorCode[]) {
      const response = await api.call('GET', `/errors/${slugOf(code)}`);
      expect(response.body).toMatchObject({ code, status: problemCatalog[code].status });
    }
    expect((await api.call('GET', '/errors/no-such-thing')).status).toBe(404);
  });

  it('answers an unknown route with 404 problem+json', async () => {
    const response = await api.call('DELETE', '/api/v1/flavors');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(response.body).toMatchObject({ code: 'NOT_FOUND', type: '/errors/not-found', instance: '/api/v1/flavors' });
  });
});

describe('metrics', () => {
  it('exposes request durations by route template and status, and VMs by status', async () => {
    const vm = (await api.createVm({ name: 'metered', flavor: 'm1.tiny', image: 'debian-12', start: true })).body;
    await api.getVm(vm.id);
    await api.getVm('00000000-0000-4000-8000-000000000000');
    const response = await api.call('GET', '/metrics');
    expect(response.headers.get('content-type')).toMatch(/text\/plain/);
    const text = String(response.body);
    expect(text).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/vms\/\{id\}",status="200"\} 1/);
    expect(text).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/vms\/\{id\}",status="404"\} 1/);
    expect(text).not.toContain(vm.id);
    expect(text).toMatch(/^vms\{status="RUNNING"\} [1-9]/m);
    expect(text).toMatch(/^vms\{status="DELETED"\} 0/m);
  });
});
