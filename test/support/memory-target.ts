import type { ContractTarget } from '../contract/vm-contract.js';
import { startApp } from './memory-app.js';
import { withTwoTenants } from './two-tenants.js';

/**
 * The same test flavors as the local OpenStack (scripts/openstack): `huge` fits no host, and
 * `quota-buster` is over the project's vCPU quota. RAM quota is unlimited, as there, so that
 * `huge` reaches the scheduler instead of being refused.
 */
const memoryLimits = {
  MOCK_EXTRA_FLAVORS: 'huge:1:1000000:1,quota-buster:500:512:1',
  MOCK_QUOTA_VCPUS: '200',
  MOCK_QUOTA_INSTANCES: '200',
  MOCK_QUOTA_RAM_MB: '-1',
};

/** The API on the memory backend, with the local cloud's test flavors and quotas (`env` on top). */
export async function memoryTarget(env: Record<string, string>): Promise<ContractTarget> {
  const app = await startApp({ LOG_LEVEL: 'warn', ...memoryLimits, ...env });
  return {
    baseUrl: app.baseUrl,
    close: () => app.close(),
    image: 'ubuntu-22.04',
    flavors: { small: 'm1.tiny', larger: 'm1.small' },
    unplaceableFlavor: 'huge',
    quotaBusterFlavor: 'quota-buster',
  };
}


const ADMIN = 'contract-admin-key-0123456789abcdef0123';

/** The same with AUTH_MODE=keys and two tenants: suites run as the first, the isolation probes as the second. */
export async function memoryTwoTenantTarget(env: Record<string, string>): Promise<ContractTarget> {
  return withTwoTenants(await memoryTarget({ AUTH_MODE: 'keys', ADMIN_API_KEY: ADMIN, ...env }), ADMIN);
}
