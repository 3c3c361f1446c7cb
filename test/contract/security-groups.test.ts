import { memoryTarget, memoryTwoTenantTarget } from '../support/memory-target.js';
import { describeSecurityGroupContract } from './security-group-contract.js';

describeSecurityGroupContract('memory backend, settling at once', () => memoryTarget({ MOCK_ACTION_DELAY_MS: '0' }), { quotas: true });
describeSecurityGroupContract('memory backend, two tenants, settling after a delay', () => memoryTwoTenantTarget({ MOCK_ACTION_DELAY_MS: '40' }), {
  twoTenants: true,
  quotas: true,
});
