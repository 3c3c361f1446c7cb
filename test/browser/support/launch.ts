import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startRealServer, type RealServer } from '../../support/real-server.js';

/**
 * Debian's `chromium` package (apt-get install chromium; .ci/run installs it). playwright-core
 * brings no browser of its own, and none can be downloaded here, so the system one is driven.
 * CHROMIUM_PATH overrides it.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export type RunningApi = RealServer;

/**
 * The real server (src/server.ts, as `npm start` runs it) on the memory backend, on 127.0.0.1 at a
 * free port, with its logs captured rather than printed.
 */
export const startApi = startRealServer;

/** Headless Chromium. A missing browser is an error, not a skip: the suite exists to run it. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`no Chromium at ${CHROMIUM_PATH}: apt-get install chromium (or set CHROMIUM_PATH)`);
  }
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ['--no-sandbox'] });
}

export interface WatchedPage {
  page: Page;
  /** Console errors and uncaught page errors, as text. */
  errors: string[];
  /** Content-Security-Policy violations the page reported (directive and blocked URI). */
  cspViolations: string[];
}

/**
 * A new page that records what a user would see only in the developer tools: console errors,
 * uncaught exceptions and CSP violations (from the page's own `securitypolicyviolation` events, so
 * none is missed even when the console message is worded differently across Chromium versions).
 */
export async function watchedPage(browser: Browser): Promise<WatchedPage> {
  const page = await browser.newPage();
  const errors: string[] = [];
  const cspViolations: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  await page.exposeFunction('__reportCspViolation', (text: string) => cspViolations.push(text));
  // A string, as the project compiles without the DOM's types; it runs in the page before its scripts.
  await page.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (event) => {
      window.__reportCspViolation(event.violatedDirective + ' blocked ' + (event.blockedURI || 'inline'));
    });`,
  });
  return { page, errors, cspViolations };
}
