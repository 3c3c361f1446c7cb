import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * The usual protective headers (helmet: nosniff, frame-ancestors, referrer policy, cross-origin
 * isolation, ...) on every answer, with one Content-Security-Policy for the JSON API and for Swagger
 * UI at /docs alike. Swagger UI's assets are served from here, its page has inline <style> blocks
 * and its icons are data: images, so those are allowed and nothing else is: no remote origin, no
 * inline script, no eval (test/browser/docs.test.ts checks that /docs runs under it).
 *
 * Left out on purpose: `upgrade-insecure-requests` and HSTS. The API itself speaks plain HTTP
 * (TLS, when there is any, ends at a proxy in front), so upgrading would break /docs over plain
 * HTTP, and HSTS (which covers a whole host and its subdomains for a year) is the TLS
 * terminator's decision to make, not this process's.
 */
export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': ["'self'"],
        'base-uri': ["'self'"],
        'connect-src': ["'self'"],
        'font-src': ["'self'"],
        'form-action': ["'self'"],
        'frame-ancestors': ["'none'"],
        'img-src': ["'self'", 'data:'],
        'object-src': ["'none'"],
        'script-src': ["'self'"],
        'script-src-attr': ["'none'"],
        'style-src': ["'self'", "'unsafe-inline'"],
      },
    },
    strictTransportSecurity: false,
    // frame-ancestors 'none' says it for browsers that read CSP; X-Frame-Options for older ones.
    xFrameOptions: { action: 'deny' },
  });
}
