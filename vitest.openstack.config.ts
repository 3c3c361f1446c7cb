import { defineConfig } from 'vitest/config';

/**
 * The suite against a real OpenStack (scripts/openstack/up.sh on 127.0.0.1): `npm run test:openstack`.
 * One file at a time, as they share one project's quota and one Nova; no coverage gate (the unit
 * tests in `npm test` carry that).
 */
export default defineConfig({
  test: {
    include: ['test/openstack/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
});
