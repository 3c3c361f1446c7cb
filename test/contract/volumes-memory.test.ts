import { startApp } from '../support/memory-app.js';
import { withTwoTenants } from '../support/two-tenants.js';
import { describeVolumeContract, type VolumeContractTarget } from './volume-contract.js';

/**
 * A pool of 600 GB under a 5000 GB quota: a 700 GB volume is within the quota but fits no storage
 * (ERROR, STORAGE_FULL). RAM quota unlimited, so that `huge` reaches placement and fails there.
 */
const memoryEnv = {
  LOG_LEVEL: 'warn',
  MOCK_EXTRA_FLAVORS: 'huge:1:1000000:1',
  MOCK_QUOTA_VOLUMES: '100',
  MOCK_QUOTA_GIGABYTES: '5000',
  MOCK_QUOTA_RAM_MB: '-1',
  MOCK_STORAGE_GB: '600',
};

async function memoryTarget(env: Record<string, string>): Promise<VolumeContractTarget> {
  const app = await startApp({ ...memoryEnv, ...env });
  return { baseUrl: app.baseUrl, close: () => app.close(), image: 'cirros-0.6', flavor: 'm1.tiny', unplaceableFlavor: 'huge', quotaGigabytes: 5000 };
}

const ADMIN = 'volume-contract-admin-key-0123456789abcdef';

async function twoTenantTarget(env: Record<string, string>): Promise<VolumeContractTarget> {
  const target = await memoryTarget({ AUTH_MODE: 'keys', ADMIN_API_KEY: ADMIN, ...env });
  return withTwoTenants(target, ADMIN);
}

const memory = { extendsInUse: true, unstorableSizeGb: 700 };
describeVolumeContract('memory backend, settling at once', () => memoryTarget({ MOCK_ACTION_DELAY_MS: '0' }), memory);
describeVolumeContract('memory backend, two tenants, settling after a delay', () => twoTenantTarget({ MOCK_ACTION_DELAY_MS: '30' }), memory);
