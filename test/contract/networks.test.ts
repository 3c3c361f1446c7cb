import { ApiClient } from '../support/api-client.js';
import { startApp } from '../support/memory-app.js';
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
  const admin = new ApiClient(target.baseUrl, { authorization: `Bearer ${ADMIN}` });
  const keyOf = async (name: string) => {
    const created = await admin.call<{ initial_key: { secret: string } }>('POST', '/api/v1/tenants', { body: { name } });
    if (created.status !== 201) throw new Error(`tenant ${name}: ${created.status}`);
    return { authorization: `Bearer ${created.body.initial_key.secret}` };
  };
  return { ...target, headers: await keyOf('net-a'), otherTenant: await keyOf('net-b') };
}

describeNetworkContract('memory backend, settling at once', () => memoryTarget({ MOCK_ACTION_DELAY_MS: '0' }));
describeNetworkContract('memory backend, two tenants, settling after a delay', () => twoTenantTarget({ MOCK_ACTION_DELAY_MS: '30' }), { twoTenants: true });
