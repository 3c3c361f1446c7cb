import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '../../src/openstack/index.js';

/** What scripts/openstack/up.sh wrote about the running cloud (MINI_OS_RUN, default /tmp/mini-openstack). */
interface StackJson {
  auth_url: string;
  region: string;
  demo: { user: string; password: string; project: string; user_domain: string; project_domain: string };
}

export const runDir = process.env['MINI_OS_RUN'] ?? '/tmp/mini-openstack';

export function readStack(): StackJson {
  try {
    return JSON.parse(readFileSync(join(runDir, 'stack.json'), 'utf8')) as StackJson;
  } catch (err) {
    throw new Error(`no running mini OpenStack at ${runDir} (run: bash scripts/openstack/up.sh): ${String(err)}`);
  }
}

/** The API's environment for BACKEND=openstack as the demo user. */
export function demoEnv(extra: Record<string, string> = {}): Record<string, string> {
  const stack = readStack();
  return {
    LOG_LEVEL: 'warn',
    BACKEND: 'openstack',
    OS_AUTH_URL: stack.auth_url,
    OS_USERNAME: stack.demo.user,
    OS_PASSWORD: stack.demo.password,
    OS_PROJECT_NAME: stack.demo.project,
    OS_USER_DOMAIN_NAME: stack.demo.user_domain,
    OS_PROJECT_DOMAIN_NAME: stack.demo.project_domain,
    OS_REGION_NAME: stack.region,
    OS_NETWORK: 'private',
    // A loaded machine (2 cores, the whole cloud, other suites) can take several seconds per call.
    OS_TIMEOUT_MS: '60000',
    ...extra,
  };
}

/** A client of our own to ask Nova directly what it holds. */
export function demoConnection(): Connection {
  const stack = readStack();
  return new Connection({
    auth: {
      type: 'password',
      authUrl: stack.auth_url,
      username: stack.demo.user,
      password: stack.demo.password,
      userDomainName: stack.demo.user_domain,
      projectName: stack.demo.project,
      projectDomainName: stack.demo.project_domain,
    },
    regionName: stack.region,
  });
}

export const catalogNames = {
  image: 'cirros-0.6',
  flavors: { small: 'm1.tiny', larger: 'm1.small' },
  unplaceableFlavor: 'huge',
  quotaBusterFlavor: 'quota-buster',
};
