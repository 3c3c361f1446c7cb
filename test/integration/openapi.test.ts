import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient } from '../support/api-client.js';
import { startApp, type RunningApp } from '../support/memory-app.js';

interface Parameter {
  name: string;
  in: string;
  schema?: { example?: unknown };
}
interface Response {
  headers?: Record<string, unknown>;
  content?: Record<string, unknown>;
}
interface Operation {
  operationId?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, Response>;
}
interface OpenApiDocument {
  info: { license?: Record<string, string> };
  tags?: { name: string; description?: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes?: Record<string, unknown> };
  security?: unknown;
}

let app: RunningApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function documentOf(env: Record<string, string> = {}): Promise<OpenApiDocument> {
  app = await startApp(env);
  return (await new ApiClient(app.baseUrl).call<OpenApiDocument>('GET', '/openapi.json')).body;
}

const operationsOf = (doc: OpenApiDocument) =>
  Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })));

describe('security in the OpenAPI document', () => {
  const schemes = {
    bearerAuth: { type: 'http', scheme: 'bearer', description: expect.any(String) },
    apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: expect.any(String) },
  };

  it('declares the API key schemes and requires one on every /api/v1 operation when keys are configured', async () => {
    const doc = await documentOf({ API_KEYS: 'doc-key' });
    expect(doc.components.securitySchemes).toEqual(schemes);
    for (const { path, op } of operationsOf(doc)) {
      expect(op.security, path).toEqual(path.startsWith('/api/v1/') ? [{ bearerAuth: [] }, { apiKey: [] }] : []);
    }
  });

  it('declares the same schemes without keys, each operation open or with a key (which is then ignored)', async () => {
    const doc = await documentOf();
    expect(doc.components.securitySchemes).toEqual(schemes);
    for (const { path, op } of operationsOf(doc)) {
      expect(op.security, path).toEqual(path.startsWith('/api/v1/') ? [{}, { bearerAuth: [] }, { apiKey: [] }] : []);
    }
  });
});

describe('what the OpenAPI document tells a client', () => {
  it('names every operation, the probes and metrics too, each once', async () => {
    const ids = operationsOf(await documentOf()).map(({ path, method, op }) => op.operationId ?? `${method} ${path} has none`);
    expect(ids).toEqual(expect.arrayContaining(['getHealth', 'getReadiness', 'getMetrics', 'getProblemType', 'createVm']));
    expect(ids.filter((id) => id.includes(' has none'))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('describes every request body inline, so that generators read fields with defaults as optional', async () => {
    const refs = operationsOf(await documentOf()).flatMap(({ path, method, op }) =>
      Object.values(op.requestBody?.content ?? {}).flatMap((media) => ('$ref' in media.schema ? [`${method} ${path}: ${String(media.schema.$ref)}`] : [])),
    );
    expect(refs).toEqual([]);
  });

  it('has a license, and declares every tag it uses', async () => {
    const doc = await documentOf();
    expect(doc.info.license).toEqual({ name: 'Apache-2.0', identifier: 'Apache-2.0' });
    const used = new Set(operationsOf(doc).flatMap(({ op }) => op.tags ?? []));
    expect(doc.tags?.map((t) => t.name).sort()).toEqual([...used].sort());
  });

  it('gives examples of catalog names and problem slugs that "Try it out" finds', async () => {
    const doc = await documentOf();
    const api = new ApiClient((app as RunningApp).baseUrl);
    const tried = [];
    for (const { path, method, op } of operationsOf(doc)) {
      const params = op.parameters?.filter((p) => p.in === 'path') ?? [];
      // VMs, tenants and keys have ids made up for the example; names in the catalog and slugs exist.
      if (method !== 'get' || params.length === 0 || !(op.tags?.includes('Catalog') || path.startsWith('/errors/'))) continue;
      const url = params.reduce((u, p) => u.replace(`{${p.name}}`, String(p.schema?.example)), path);
      tried.push(`${url} ${(await api.call('GET', url)).status}`);
    }
    expect(tried).toEqual(['/api/v1/flavors/m1.small 200', '/api/v1/images/ubuntu-22.04 200', '/errors/invalid-state-transition 200']);
  });

  it('documents the headers a client meets: Retry-After, WWW-Authenticate, If-None-Match, ETag, Location', async () => {
    const doc = await documentOf({ API_KEYS: 'doc-key', RATE_LIMIT_PER_MINUTE: '100' });
    for (const { path, op } of operationsOf(doc).filter(({ path }) => path.startsWith('/api/v1/'))) {
      expect(Object.keys(op.responses['429']?.headers ?? {}), path).toEqual(['Retry-After']);
      expect(Object.keys(op.responses['401']?.headers ?? {}), path).toEqual(['WWW-Authenticate']);
    }
    const getVm = doc.paths['/api/v1/vms/{id}']?.get;
    expect(getVm?.parameters?.map((p) => `${p.in} ${p.name}`)).toContain('header If-None-Match');
    expect(Object.keys(getVm?.responses['304']?.headers ?? {})).toEqual(['ETag']);
    const create = doc.paths['/api/v1/vms']?.post;
    for (const status of ['201', '202']) expect(Object.keys(create?.responses[status]?.headers ?? {}).sort()).toEqual(['ETag', 'Location']);
    expect(doc.paths['/errors/{slug}']?.get?.responses['200']?.content).toHaveProperty(['application/json']);
  });
});
