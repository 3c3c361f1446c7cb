import { ApiClient } from '../support/api-client.js';
import { startApp } from '../support/memory-app.js';
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
  const admin = new ApiClient(target.baseUrl, { authorization: `Bearer ${ADMIN}` });
  const keyOf = async (name: string) => {
    const created = await admin.call<{ initial_key: { secret: string } }>('POST', '/api/v1/tenants', { body: { name } });
    if (created.status !== 201) throw new Error(`tenant ${name}: ${created.status}`);
    return { authorization: `Bearer ${created.body.initial_key.secret}` };
  };
  return { ...target, headers: await keyOf('tenant-a'), otherTenant: await keyOf('tenant-b') };
}

describeSecurityGroupContract('memory backend, settling at once', () => memoryTarget({ MOCK_ACTION_DELAY_MS: '0' }), { quotas: true });
describeSecurityGroupContract('memory backend, two tenants, settling after a delay', () => twoTenantTarget({ MOCK_ACTION_DELAY_MS: '40' }), {
  twoTenants: true,
  quotas: true,
});
