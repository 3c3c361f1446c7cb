import { memoryTarget, memoryTwoTenantTarget } from '../support/memory-target.js';
import { describeContract } from './vm-contract.js';

describeContract('memory backend, settling at once', () => memoryTarget({ MOCK_ACTION_DELAY_MS: '0' }));
describeContract('memory backend, two tenants with keys', () => memoryTwoTenantTarget({ MOCK_ACTION_DELAY_MS: '0' }), { twoTenants: true });
describeContract('memory backend, two tenants, settling after a delay', () => memoryTwoTenantTarget({ MOCK_ACTION_DELAY_MS: '40' }), { twoTenants: true });
describeContract('memory backend, settling after a delay', () => memoryTarget({ MOCK_ACTION_DELAY_MS: '40' }));
