import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The real-OpenStack and real-browser suites have their own commands (npm run test:openstack,
    // npm run test:browser).
    exclude: ['test/openstack/**', 'test/browser/**', 'node_modules/**'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      // main.ts only wires config to startServer(); it is exercised by test/integration/process.test.ts
      // in a child process, where in-process coverage cannot see it.
      exclude: ['src/main.ts'],
      reporter: ['text-summary', 'text'],
      thresholds: { lines: 90, branches: 90, functions: 90, statements: 90 },
    },
  },
});
