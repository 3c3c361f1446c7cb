import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient } from '../support/api-client.js';
import { startApp, type RunningApp } from '../support/memory-app.js';

interface Operation {
  operationId?: string;
  security?: Record<string, string[]>[];
}
interface OpenApiDocument {
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
