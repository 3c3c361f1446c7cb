import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, startApi, watchedPage, type RunningApi } from './support/launch.js';

let api: RunningApi;
let browser: Browser;
beforeAll(async () => {
  api = await startApi();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await api?.close();
});

/** Every operation in the served OpenAPI document, as Swagger UI labels them ("GET /healthz"). */
async function documentedOperations(): Promise<string[]> {
  const document = (await (await fetch(`${api.baseUrl}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
  return Object.entries(document.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`));
}

describe('Swagger UI at /docs, in headless Chromium', () => {
  it('renders every operation, runs one with "Try it out", and the page reports no error and no CSP violation', async () => {
    const { page, errors, cspViolations } = await watchedPage(browser);
    const response = await page.goto(`${api.baseUrl}/docs`);
    // The page must be under the API's CSP, or this test would prove nothing about it.
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.locator('.opblock').first().waitFor();

    const expected = await documentedOperations();
    const shown = await page.locator('.opblock-summary').evaluateAll((blocks) =>
      blocks.map((b) => `${b.querySelector('.opblock-summary-method')?.textContent ?? ''} ${b.querySelector('.opblock-summary-path')?.getAttribute('data-path') ?? ''}`),
    );
    expect(shown.sort()).toEqual(expected.sort());

    // Found by its path, not by Swagger UI's element id (which follows the operationId).
    const healthz = page.locator('.opblock-get').filter({ has: page.locator('.opblock-summary-path[data-path="/healthz"]') });
    await healthz.locator('.opblock-summary').click();
    await healthz.getByRole('button', { name: 'Try it out' }).click();
    await healthz.getByRole('button', { name: 'Execute' }).click();
    const status = healthz.locator('.live-responses-table tbody .response-col_status').first();
    await expect.poll(() => status.textContent(), { timeout: 10_000 }).toBe('200');
    await expect.poll(() => healthz.locator('.live-responses-table tbody .microlight').first().textContent()).toContain('"status": "ok"');

    expect(cspViolations).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });
});
