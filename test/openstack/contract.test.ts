import { describeContract } from '../contract/vm-contract.js';
import { ApiClient } from '../support/api-client.js';
import { startApp } from '../support/memory-app.js';
import { catalogNames, operatorEnv } from './mini-openstack.js';

const ADMIN = 'contract-admin-key-0123456789abcdef0123';
const RUN = Date.now().toString(36);

/**
 * The whole contract on OpenStack as two tenants whose keys are Keystone application credentials
 * (OS_TENANTS=keystone, the operator being Keystone's admin scoped to the demo project), each
 * tenant's servers in its own project: the suite runs as the first, the isolation probes as the
 * second. Deleting the tenants afterwards is refused
 * (409) while Nova still lists their deleted servers; the leftovers are harmless, as a later run's
 * names differ.
 */
describeContract(
  'OpenStack backend, two tenants with Keystone keys',
  async () => {
    const app = await startApp(await operatorEnv({ AUTH_MODE: 'keys', ADMIN_API_KEY: ADMIN }));
    const admin = new ApiClient(app.baseUrl, { authorization: `Bearer ${ADMIN}` });
    const made: string[] = [];
    const keyOf = async (name: string) => {
      const created = await admin.call<{ id: string; initial_key: { secret: string } }>('POST', '/api/v1/tenants', { body: { name: `${name}-${RUN}` } });
      if (created.status !== 201) throw new Error(`tenant ${name}: ${created.status} ${JSON.stringify(created.body)}`);
      made.push(created.body.id);
      return { authorization: `Bearer ${created.body.initial_key.secret}` };
    };
    const headers = await keyOf('contract-a');
    const otherTenant = await keyOf('contract-b');
    return {
      baseUrl: app.baseUrl,
      headers,
      otherTenant,
      close: async () => {
        for (const id of made) await admin.call('DELETE', `/api/v1/tenants/${id}`);
        await app.close();
      },
      ...catalogNames,
    };
  },
  // Each tenant is a project, a user and a credential: seconds each on a quiet machine, minutes on a loaded one.
  { twoTenants: true, setupTimeoutMs: 600_000 },
);
