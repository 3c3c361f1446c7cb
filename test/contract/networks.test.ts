import { startApp } from '../support/memory-app.js';
import { withTwoTenants } from '../support/two-tenants.js';
import { describeNetworkContract, type NetworkContractTarget } from './network-contract.js';

async function memoryTarget(env: Record<string, string>): Promise<NetworkContractTarget> {
  const app = await startApp({ LOG_LEVEL: 'warn', ...env });
  return {
    baseUrl: app.baseUrl,
    close: () => app.close(),
    image: 'ubuntu-22.04',
    flavor: 'm1.tiny',
    defaultNetwork: 'private',
    externalNetwork: 'public',
    vmShowsFloatingIpAtOnce: true,
    defaultNetworkRouted: true,
  };
}

const ADMIN = 'network-admin-key-0123456789abcdef01234';

async function twoTenantTarget(env: Record<string, string>): Promise<NetworkContractTarget> {
  const target = await memoryTarget({ AUTH_MODE: 'keys', ADMIN_API_KEY: ADMIN, ...env });
  return withTwoTenants(target, ADMIN, ['net-a', 'net-b']);
}

describeNetworkContract('memory backend, settling at once', () => memoryTarget({ MOCK_ACTION_DELAY_MS: '0' }));
describeNetworkContract('memory backend, two tenants, settling after a delay', () => twoTenantTarget({ MOCK_ACTION_DELAY_MS: '30' }), { twoTenants: true });
