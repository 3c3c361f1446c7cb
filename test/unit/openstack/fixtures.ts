import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const fixturesDir = fileURLToPath(new URL('../../fixtures/openstack/', import.meta.url));

/** A response body recorded from the real cloud, from test/fixtures/openstack/ (README.md lists them). */
export function fixture<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(fixturesDir + name, 'utf8')) as T;
}
