import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../support/memory-app.js';

let app: RunningApp;
beforeAll(async () => {
  app = await startApp();
});
afterAll(() => app.close());

describe('security headers', () => {
  it.each(['/api/v1/vms', '/healthz', '/docs/', '/openapi.json', '/no-such-route'])('%s carries nosniff, a CSP and framing protection', async (path) => {
    const response = await fetch(`${app.baseUrl}${path}`);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('upgrade-insecure-requests');
    expect(response.headers.get('x-powered-by')).toBeNull();
    // HSTS is the TLS terminator's to send: this process speaks plain HTTP.
    expect(response.headers.get('strict-transport-security')).toBeNull();
  });
});
