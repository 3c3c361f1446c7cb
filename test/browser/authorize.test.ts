import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, startApi, watchedPage, type RunningApi } from './support/launch.js';

const ADMIN_KEY = 'browser-test-admin-key-0123456789abcdef';

let api: RunningApi;
let browser: Browser;
beforeAll(async () => {
  api = await startApi({ AUTH_MODE: 'keys', ADMIN_API_KEY: ADMIN_KEY });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await api?.close();
});

describe("Swagger UI's Authorize button, in headless Chromium, with AUTH_MODE=keys", () => {
  it('sends no key before Authorize (401) and the entered key after it (200, the key\'s role)', async () => {
    const { page, errors, cspViolations } = await watchedPage(browser);
    await page.goto(`${api.baseUrl}/docs`);
    const whoami = page.locator('.opblock-get').filter({ has: page.locator('.opblock-summary-path[data-path="/api/v1/whoami"]') });
    await whoami.locator('.opblock-summary').click();
    await whoami.getByRole('button', { name: 'Try it out' }).click();
    const status = whoami.locator('.live-responses-table tbody .response-col_status').first();
    const body = whoami.locator('.live-responses-table tbody .microlight').first();

    await whoami.getByRole('button', { name: 'Execute' }).click();
    await expect.poll(() => status.textContent(), { timeout: 10_000 }).toBe('401');

    // The dialog lists both schemes (bearerAuth, apiKey); the bearer one is enough.
    await page.locator('.auth-wrapper .authorize').click();
    const bearer = page.locator('.auth-container').filter({ hasText: 'bearerAuth' });
    await bearer.locator('input').fill(ADMIN_KEY);
    // Swagger UI labels this button "Apply credentials" for assistive technology.
    await bearer.getByRole('button', { name: 'Apply credentials' }).click();
    await expect.poll(() => bearer.getByRole('button', { name: 'Remove authorization' }).count()).toBe(1);
    await page.locator('.auth-btn-wrapper .btn-done').first().click();

    await whoami.getByRole('button', { name: 'Execute' }).click();
    await expect.poll(() => status.textContent(), { timeout: 10_000 }).toBe('200');
    await expect.poll(() => body.textContent()).toContain('"role": "admin"');

    // What Swagger UI sent is what a user would copy: the curl line carries the key as a bearer token.
    expect(await whoami.locator('.curl-command').textContent()).toContain(`Authorization: Bearer ${ADMIN_KEY}`);
    expect(cspViolations).toEqual([]);
    expect(errors.filter((e) => !e.includes('401'))).toEqual([]);
    await page.close();
  });
});
