import { mkdirSync } from 'node:fs';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, startApi, watchedPage, type RunningApi, type WatchedPage } from './support/launch.js';

let api: RunningApi;
let browser: Browser;
beforeAll(async () => {
  // Tasks take a moment, as on a real cloud, so the page has to follow them through the stream.
  api = await startApi({ MOCK_ACTION_DELAY_MS: '300' });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await api?.close();
});

interface VmJson {
  id: string;
  name: string;
  status: string;
  task: string | null;
  allowed_actions?: string[];
}

/** A call made "elsewhere": from the test, not from the page. */
async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, baseUrl = api.baseUrl): Promise<VmJson> {
  const response = await fetch(`${baseUrl}/api/v1${path}`, {
    method,
    headers: { ...headers, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return (await response.json()) as VmJson;
}

async function settled(id: string): Promise<VmJson> {
  for (;;) {
    const vm = await call('GET', `/vms/${id}`);
    if (vm.task === null) return vm;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Opens the console and records every request the page makes. */
async function openConsole(baseUrl = api.baseUrl): Promise<WatchedPage & { requests: string[] }> {
  const watched = await watchedPage(browser);
  const requests: string[] = [];
  watched.page.on('request', (request) => requests.push(request.url()));
  const response = await watched.page.goto(`${baseUrl}/`);
  expect(response?.status()).toBe(200);
  expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
  return { ...watched, requests };
}

const live = (page: Page) => page.locator('#live[data-state="on"]').waitFor();
const row = (page: Page, name: string): Locator => page.locator(`#vm-rows tr[data-name="${name}"]`);
const buttonsOf = (r: Locator) => r.locator('.actions button').allTextContents();

describe('the console at /, in headless Chromium', () => {
  let watched: WatchedPage & { requests: string[] };
  beforeAll(async () => {
    watched = await openConsole();
    await live(watched.page);
  });
  afterAll(() => watched.page.close());

  it('shows a VM created elsewhere without a reload, with a button for each of its allowed_actions', async () => {
    const { page } = watched;
    const vm = await call('POST', '/vms', { name: 'made-elsewhere', flavor: 'm1.tiny', image: 'cirros-0.6', start: false });
    const r = row(page, 'made-elsewhere');
    await r.waitFor();
    await expect.poll(() => r.locator('.status').textContent()).toBe('STOPPED');
    const now = await settled(vm.id);
    expect(now.allowed_actions).toBeDefined();
    expect(await buttonsOf(r)).toEqual((now.allowed_actions ?? []).map((a) => a.charAt(0).toUpperCase() + a.slice(1)));
  });

  it('turns a row RUNNING after a click on Start, through the task it shows on the way', async () => {
    const { page } = watched;
    await call('POST', '/vms?wait=true', { name: 'to-start', flavor: 'm1.tiny', image: 'cirros-0.6', start: false });
    const r = row(page, 'to-start');
    await r.getByRole('button', { name: 'Start to-start' }).click();
    // The answer to the click (202, task starting) shows at once; while the task runs, the API
    // allows only delete, and so does the row.
    await expect.poll(() => r.locator('.status').textContent()).toBe('STOPPED · starting');
    expect(await buttonsOf(r)).toEqual(['Delete']);
    await expect.poll(() => r.locator('.status').textContent(), { timeout: 5000 }).toBe('RUNNING');
    // Settled RUNNING: the buttons are what the API allows a RUNNING VM, Start no longer among them.
    const buttons = await buttonsOf(r);
    expect(buttons).toContain('Stop');
    expect(buttons).not.toContain('Start');
  });

  it('resizes through a dialog the keyboard drives: Escape cancels, Enter on the confirm button sends the choice', async () => {
    const { page } = watched;
    const r = row(page, 'to-start');
    const resize = r.getByRole('button', { name: 'Resize to-start' });
    const dialog = page.locator('#action-dialog');
    await resize.focus();
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    expect(await page.evaluate('document.activeElement.id')).toBe('dialog-flavor');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await r.locator('td').nth(1).textContent()).toBe('m1.tiny');

    await resize.focus();
    await page.keyboard.press('Enter');
    await page.locator('#dialog-flavor').selectOption('m1.medium');
    await page.locator('#dialog-confirm').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => r.locator('td').nth(1).textContent(), { timeout: 5000 }).toBe('m1.medium');
    await expect.poll(() => r.locator('.status').textContent(), { timeout: 5000 }).toBe('RUNNING');
  });

  it('creates a VM from the form filled from the catalogs, with the keyboard alone', async () => {
    const { page } = watched;
    await expect.poll(() => page.locator('#create-form select[name="flavor"] option').count()).toBeGreaterThan(1);
    await page.locator('#create-form input[name="vmname"]').focus();
    await page.keyboard.type('typed-in');
    await page.keyboard.press('Tab'); // flavor
    await page.keyboard.press('ArrowDown'); // the second flavor
    for (const _field of ['image', 'start', 'create']) await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Create');
    await page.keyboard.press('Enter');
    const r = row(page, 'typed-in');
    await expect.poll(() => r.locator('.status').textContent(), { timeout: 5000 }).toBe('RUNNING');
    expect(await r.locator('td').nth(1).textContent()).toBe('m1.small');
  });

  it('deletes only after confirmation', async () => {
    const { page } = watched;
    await call('POST', '/vms?wait=true', { name: 'to-delete', flavor: 'm1.tiny', image: 'cirros-0.6', start: true });
    const r = row(page, 'to-delete');
    await r.getByRole('button', { name: 'Delete to-delete' }).click();
    const dialog = page.locator('#action-dialog');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await r.count()).toBe(1);
    await r.getByRole('button', { name: 'Delete to-delete' }).click();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await r.waitFor({ state: 'detached' });
  });

  it('made no request outside the API origin, and saw no console error and no CSP violation', () => {
    expect(watched.requests.length).toBeGreaterThan(5);
    expect(watched.requests.filter((url) => !url.startsWith(`${api.baseUrl}/`))).toEqual([]);
    expect(watched.errors).toEqual([]);
    expect(watched.cspViolations).toEqual([]);
  });

  it('reads on a narrow screen without sideways scrolling (and leaves a screenshot in docs/)', async () => {
    const { page } = watched;
    await page.setViewportSize({ width: 1000, height: 700 });
    mkdirSync('docs', { recursive: true });
    await page.screenshot({ path: 'docs/console.png', fullPage: true });
    await page.setViewportSize({ width: 360, height: 740 });
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await page.screenshot({ path: 'docs/console-narrow.png', fullPage: true });
  });
  it('shows a refused request as the problem detail', async () => {
    // A page of its own: the refusal is a 400 the browser logs as a console error on purpose.
    const { page } = await openConsole();
    await live(page);
    await page.locator('#create-form input[name="vmname"]').fill('-not-a-name');
    await page.locator('#create-form button[type="submit"]').click();
    await expect.poll(() => page.locator('#message').textContent()).toMatch(/^Invalid body: body\.name/);
    expect(await page.locator('#message').isVisible()).toBe(true);
    await page.close();
  });
});

describe('the console with API keys', () => {
  let keyed: RunningApi;
  beforeAll(async () => {
    keyed = await startApi({ API_KEYS: 'console-key' });
  });
  afterAll(() => keyed?.close());

  it('asks for the key, keeps it for the tab, and then goes live', async () => {
    const { page } = await openConsole(keyed.baseUrl);
    const form = page.locator('#key-form');
    await form.waitFor();
    await form.locator('input[name="key"]').fill('console-key');
    await form.locator('input[name="key"]').press('Enter');
    await live(page);
    await call('POST', '/vms', { name: 'with-key', flavor: 'm1.tiny', image: 'cirros-0.6' }, { authorization: 'Bearer console-key' }, keyed.baseUrl);
    await row(page, 'with-key').waitFor();
    expect(await page.evaluate('sessionStorage.getItem("vm-api-key")')).toBe('console-key');
    expect(await page.locator('#message').isHidden()).toBe(true);
    await page.close();
  });
});
