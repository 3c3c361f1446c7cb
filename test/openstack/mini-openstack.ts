import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '../../src/openstack/index.js';

/** What scripts/openstack/up.sh wrote about the running cloud (MINI_OS_RUN, default /tmp/mini-openstack). */
interface StackJson {
  auth_url: string;
  region: string;
  demo: { user: string; password: string; project: string; user_domain: string; project_domain: string };
  admin: { user: string; password: string; project: string };
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
    // The demo user is no Keystone admin: tenants stay in the process (operatorEnv keeps them in Keystone).
    OS_TENANTS: 'process',
    ...extra,
  };
}

/**
 * The API's environment as the operator: Keystone's admin user, scoped to the demo project (its
 * quotas fit the suites), with tenants and keys in Keystone. The admin role on the demo project is
 * given here, once per cloud (Keystone answers 204 again when it is there already).
 */
export async function operatorEnv(extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const stack = readStack();
  const admin = new Connection({
    auth: { type: 'password', authUrl: stack.auth_url, username: stack.admin.user, password: stack.admin.password, projectName: stack.admin.project },
    regionName: stack.region,
    timeoutMs: 60_000,
  });
  const { userId } = await admin.authenticate();
  const [role] = await admin.identity.findRoles('admin');
  const [demo] = await admin.identity.listProjects({ name: stack.demo.project });
  if (!role || !demo) throw new Error('the local cloud has no admin role or no demo project');
  await admin.identity.assignProjectRole(demo.id, userId, role.id);
  return demoEnv({ OS_USERNAME: stack.admin.user, OS_PASSWORD: stack.admin.password, OS_TENANTS: 'keystone', ...extra });
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
