import { describeSecurityGroupContract } from '../../contract/security-group-contract.js';
import { ApiClient } from '../../support/api-client.js';
import { startApp } from '../../support/memory-app.js';
import { FakeNeutronSecurityGroups } from '../openstack/fake-neutron-security-groups.js';
import { FakeOpenStack } from '../openstack/fake-openstack.js';

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
      LOG_LEVEL: 'warn',
      BACKEND: 'openstack',
      OS_AUTH_URL: fake.authUrl,
      OS_USERNAME: 'demo',
      OS_PASSWORD: 'secret',
      OS_PROJECT_NAME: 'demo',
      OS_NETWORK: 'private',
      // The fake cloud plays no Keystone admin: tenants stay in the process.
      OS_TENANTS: 'process',
      OS_TIMEOUT_MS: '2000',
      AUTH_MODE: 'keys',
      ADMIN_API_KEY: ADMIN,
    });
    const admin = new ApiClient(app.baseUrl, { authorization: `Bearer ${ADMIN}` });
    const keyOf = async (name: string) => {
      const created = await admin.call<{ initial_key: { secret: string } }>('POST', '/api/v1/tenants', { body: { name } });
      return { authorization: `Bearer ${created.body.initial_key.secret}` };
    };
    return {
      baseUrl: app.baseUrl,
      close: async () => {
        await app.close();
        await fake.close();
      },
      image: 'cirros-0.6',
      flavors: { small: 'm1.tiny', larger: 'm1.small' },
      unplaceableFlavor: 'huge',
      quotaBusterFlavor: 'quota-buster',
      headers: await keyOf('tenant-a'),
      otherTenant: await keyOf('tenant-b'),
    };
  },
  { twoTenants: true, quotas: true },
);
