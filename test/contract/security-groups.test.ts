import { startApp } from '../support/memory-app.js';
import { withTwoTenants } from '../support/two-tenants.js';
import { describeSecurityGroupContract } from './security-group-contract.js';
import type { ContractTarget } from './vm-contract.js';

async function memoryTarget(env: Record<string, string>): Promise<ContractTarget> {
  const app = await startApp({ LOG_LEVEL: 'warn', ...env });
  return {
    baseUrl: app.baseUrl,
    close: () => app.close(),
    image: 'ubuntu-22.04',
    flavors: { small: 'm1.tiny', larger: 'm1.small' },
    unplaceableFlavor: 'huge',
    quotaBusterFlavor: 'quota-buster',
  };
}

const ADMIN = 'sg-contract-admin-key-0123456789abcdef0';

/** AUTH_MODE=keys with two tenants: the suite runs as the first, the isolation probes as the second. */
async function twoTenantTarget(env: Record<string, string>): Promise<ContractTarget> {
  const target = await memoryTarget({ AUTH_MODE: 'keys', ADMIN_API_KEY: ADMIN, ...env });
  return withTwoTenants(target, ADMIN);
}

describeSecurityGroupContract('memory backend, settling at once', () => memoryTarget({ MOCK_ACTION_DELAY_MS: '0' }), { quotas: true });
describeSecurityGroupContract('memory backend, two tenants, settling after a delay', () => twoTenantTarget({ MOCK_ACTION_DELAY_MS: '40' }), {
  twoTenants: true,
  quotas: true,
});
