import { defineConfig } from 'vitest/config';

/**
 * The real-browser suite (`npm run test:browser`): headless Chromium (Debian's package) driven by
 * playwright-core against the real server. One file at a time: a browser is heavy on a small machine.
 * No coverage gate (`npm test` carries that).
 */
export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
