import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../support/memory-app.js';

let app: RunningApp;
beforeAll(async () => {
  app = await startApp();
});
afterAll(() => app.close());

describe('the console files', () => {
  it('serves the page at / under the strict CSP, loading only module files from /console/', async () => {
    const response = await fetch(`${app.baseUrl}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await response.text();
    expect(html).toContain('<script type="module" src="/console/app.js"></script>');
    // No inline script or style, and nothing from another origin.
    expect(html).not.toMatch(/<script>|<script type="module">|<style|style="/);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it('serves its modules as JavaScript and its stylesheet as CSS, and a missing file as a 404 problem', async () => {
    for (const [file, type] of [
      ['app.js', /javascript/],
      ['api.js', /javascript/],
      ['events.js', /javascript/],
      ['console.css', /text\/css/],
      ['favicon.svg', /image\/svg\+xml/],
    ] as const) {
      const response = await fetch(`${app.baseUrl}/console/${file}`);
      expect(response.status, file).toBe(200);
      expect(response.headers.get('content-type'), file).toMatch(type);
    }
    const missing = await fetch(`${app.baseUrl}/console/nope.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/application\/problem\+json/);
  });
});
