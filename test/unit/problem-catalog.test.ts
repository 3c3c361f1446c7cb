import { describe, expect, it } from 'vitest';
import { ApiError, errorCodes } from '../../src/domain/errors.js';
import { problemCatalog, statusOf, statusesOf } from '../../src/http/problem-catalog.js';
import { requestProblem } from '../../src/http/problem.js';
import { ApiClient } from '../support/api-client.js';
import { startApp } from '../support/memory-app.js';

describe('the problem catalogue is the one place mapping a code to a status', () => {
  it('answers a body too large with 413 and a body that is not JSON with 415, both VALIDATION_ERROR', () => {
    expect(statusOf(requestProblem('body_too_large', 'too large'))).toBe(413);
    expect(statusOf(requestProblem('unsupported_media_type', 'not JSON'))).toBe(415);
    expect(statusOf(new ApiError('VALIDATION_ERROR', 'bad'))).toBe(400);
  });

  it('answers a cloud that answered with an error with 502, and one that cannot be reached with 503', () => {
    expect(statusOf(new ApiError('BACKEND_UNAVAILABLE', 'x', { upstream: 'error' }))).toBe(502);
    expect(statusOf(new ApiError('BACKEND_UNAVAILABLE', 'x', { upstream: 'unreachable' }))).toBe(503);
  });

  it('lists those statuses with their codes: 413 and 415 only for a request with a body', () => {
    expect(statusesOf('VALIDATION_ERROR')).toEqual([400, 413, 415]);
    expect(statusesOf('VALIDATION_ERROR', false)).toEqual([400]);
    expect(statusesOf('BACKEND_UNAVAILABLE')).toEqual([503, 502]);
  });

  it('has one entry for every error code', () => {
    expect(Object.keys(problemCatalog).sort()).toEqual([...errorCodes].sort());
  });

  it('the OpenAPI document lists a code under a problem status only if the catalogue answers it so, and 502 wherever BACKEND_UNAVAILABLE is', async () => {
    const app = await startApp({ LOG_LEVEL: 'warn' });
    try {
      type Op = { requestBody?: unknown; responses: Record<string, { description: string; content?: Record<string, unknown> }> };
      const doc = (await new ApiClient(app.baseUrl).call<{ paths: Record<string, Record<string, Op>> }>('GET', '/openapi.json')).body;
      const vmGet = doc.paths['/api/v1/vms/{id}']?.get;
      const create = doc.paths['/api/v1/vms']?.post;
      // A cloud that answers with an error is a 502: documented wherever BACKEND_UNAVAILABLE is.
      expect(vmGet?.responses['502']?.description).toContain('`BACKEND_UNAVAILABLE`: The cloud answered with an error');
      expect(vmGet?.responses['413']).toBeUndefined();
      expect(create?.responses['413']?.description).toContain('larger than 16 KiB');
      expect(create?.responses['415']?.description).toContain('not UTF-8 application/json');
      for (const operations of Object.values(doc.paths)) {
        for (const operation of Object.values(operations)) {
          for (const [status, response] of Object.entries(operation.responses)) {
            if (!response.content?.['application/problem+json']) continue;
            const codes = [...response.description.matchAll(/`([A-Z_]+)`:/g)].map((m) => m[1] as keyof typeof problemCatalog);
            for (const code of codes) expect([code, statusesOf(code)]).toEqual([code, expect.arrayContaining([Number(status)])]);
          }
        }
      }
    } finally {
      await app.close();
    }
  });
});
