/**
 * What the fault tests and the OpenStack bench need from the running local cloud: its description
 * (stack.json written by scripts/openstack/up.sh), the API's environment for it, and a direct client.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection, type ConnectionOptions } from '../../../src/openstack/index.js';
import type { StackInfo } from './fault-proxy.js';

export const stackDir = process.env.MINI_OS_RUN ?? '/tmp/mini-openstack';

/** The stack's description, or a sentence saying why there is none. */
export function loadStack(): StackInfo | string {
  try {
    const raw = JSON.parse(readFileSync(join(stackDir, 'stack.json'), 'utf8')) as Record<string, unknown>;
    return {
      authUrl: String(raw['auth_url']),
      endpoints: raw['endpoints'] as Record<string, string>,
      demo: raw['demo'] as StackInfo['demo'],
      images: raw['images'] as Record<string, string>,
      flavors: raw['flavors'] as Record<string, string>,
      networks: raw['networks'] as Record<string, string>,
    };
  } catch (err) {
    return `no local OpenStack described in ${stackDir}/stack.json (${String(err)}); run: bash scripts/openstack/up.sh`;
  }
}

/** Keystone answers on its auth URL (a quick probe before a suite or a bench starts). */
export async function cloudIsUp(stack: StackInfo): Promise<boolean> {
  try {
    const response = await fetch(stack.authUrl, { signal: AbortSignal.timeout(2_000) });
    return response.ok;
  } catch {
    return false;
  }
}

/** The API's environment for BACKEND=openstack on this stack, as the demo user. */
export function apiEnv(stack: StackInfo, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    BACKEND: 'openstack',
    LOG_LEVEL: 'debug',
    OS_AUTH_URL: stack.authUrl,
    OS_USERNAME: stack.demo.user,
    OS_PASSWORD: stack.demo.password,
    OS_PROJECT_NAME: stack.demo.project,
    OS_USER_DOMAIN_NAME: stack.demo.user_domain,
    OS_PROJECT_DOMAIN_NAME: stack.demo.project_domain,
    OS_NETWORK: 'private',
    // The demo user is no Keystone admin: tenants stay in the process (test/openstack/keystone-tenancy.test.ts runs the Keystone ones).
    OS_TENANTS: 'process',
    ...overrides,
  };
}

/** A client connection of our own (src/openstack) as the demo user, e.g. to look behind the API's back (or through a Keystone proxy's auth URL). */
export function directConnection(stack: StackInfo, options: Partial<ConnectionOptions> = {}, authUrl = stack.authUrl): Connection {
  return new Connection({
    auth: {
      type: 'password',
      authUrl,
      username: stack.demo.user,
      password: stack.demo.password,
      projectName: stack.demo.project,
      userDomainName: stack.demo.user_domain,
      projectDomainName: stack.demo.project_domain,
    },
    ...options,
  });
}

/** A token for the demo user straight from Keystone, for calls that go around the API's client. */
export async function demoToken(stack: StackInfo): Promise<string> {
  const response = await fetch(`${stack.authUrl.replace(/\/+$/, '')}/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: stack.demo.user, domain: { name: stack.demo.user_domain }, password: stack.demo.password } },
        },
        scope: { project: { name: stack.demo.project, domain: { name: stack.demo.project_domain } } },
      },
    }),
  });
  await response.text();
  const token = response.headers.get('x-subject-token');
  if (response.status !== 201 || !token) throw new Error(`Keystone answered ${response.status} without a token`);
  return token;
}
