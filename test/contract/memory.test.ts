import { startApp } from '../support/memory-app.js';
import { withTwoTenants } from '../support/two-tenants.js';
import { describeContract, type ContractTarget } from './vm-contract.js';

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

async function memoryTarget(env: Record<string, string>): Promise<ContractTarget> {
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

/** AUTH_MODE=keys with two tenants: the suite runs as the first, the isolation probes as the second. */
async function twoTenantTarget(env: Record<string, string>): Promise<ContractTarget> {
  const target = await memoryTarget({ AUTH_MODE: 'keys', ADMIN_API_KEY: ADMIN, ...env });
  return withTwoTenants(target, ADMIN);
}

describeContract('memory backend, settling at once', () => memoryTarget({ MOCK_ACTION_DELAY_MS: '0' }));
describeContract('memory backend, two tenants with keys', () => twoTenantTarget({ MOCK_ACTION_DELAY_MS: '0' }), { twoTenants: true });
describeContract('memory backend, two tenants, settling after a delay', () => twoTenantTarget({ MOCK_ACTION_DELAY_MS: '40' }), { twoTenants: true });
describeContract('memory backend, settling after a delay', () => memoryTarget({ MOCK_ACTION_DELAY_MS: '40' }));
