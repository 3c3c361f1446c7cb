import { describeSecurityGroupContract } from '../../contract/security-group-contract.js';
import { startApp } from '../../support/memory-app.js';
import { FakeNeutronSecurityGroups } from '../openstack/fake-neutron-security-groups.js';
import { FakeOpenStack, fakeCloudEnv } from '../openstack/fake-openstack.js';
import { withTwoTenants } from '../../support/two-tenants.js';

const ADMIN = 'sg-fake-admin-key-0123456789abcdef0123';

/**
 * The security group contract on the OpenStack backend, against the unit tests' fake cloud with a
 * fake Neutron behind it (the same suite runs against the real local cloud in test/openstack).
 */
describeSecurityGroupContract(
  'OpenStack backend on the fake cloud, two tenants',
  async () => {
    const fake = await FakeOpenStack.start({ cloud: true });
    new FakeNeutronSecurityGroups(fake);
    const app = await startApp({
      ...fakeCloudEnv(fake),
      LOG_LEVEL: 'warn',
      OS_TIMEOUT_MS: '2000',
      AUTH_MODE: 'keys',
      ADMIN_API_KEY: ADMIN,
    });
    const target = {
      baseUrl: app.baseUrl,
      close: async () => {
        await app.close();
        await fake.close();
      },
      image: 'cirros-0.6',
      flavors: { small: 'm1.tiny', larger: 'm1.small' },
      unplaceableFlavor: 'huge',
      quotaBusterFlavor: 'quota-buster',
    };
    return withTwoTenants(target, ADMIN);
  },
  { twoTenants: true, quotas: true },
);
